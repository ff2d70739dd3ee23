namespace AnalysisRunner.Core.Client;

/// <summary>
/// How long a client keeps asking when the server answers 503 (PostgreSQL down: DatabaseUnavailable):
/// the same request again after 1, 2, 4, 8, 8… s (at least what a Retry-After header asks) until
/// <see cref="Budget"/> of waiting is spent, then the last answer's error stands. Only requests that are
/// safe to send twice use it (reads, plans, and submissions, whose idempotency key makes a second send
/// answer the run the first one logged).
/// </summary>
public sealed record ServerRetry
{
    public static ServerRetry Default { get; } = new();

    /// <summary>No retries: the first 503 is the answer.</summary>
    public static ServerRetry None { get; } = new() { Budget = TimeSpan.Zero };

    /// <summary>Sets <see cref="Budget"/> in seconds for the cmdlets (0: answer the first 503 at once), e.g. in a script that would rather fail fast.</summary>
    public const string BudgetVariable = "AR_SERVER_RETRY_SECONDS";

    /// <summary>The default policy, with the budget <see cref="BudgetVariable"/> sets (InvalidServerRetrySeconds for anything but 0–3600).</summary>
    public static ServerRetry FromEnvironment()
    {
        var text = Environment.GetEnvironmentVariable(BudgetVariable);
        if (string.IsNullOrWhiteSpace(text)) return Default;
        if (!double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var seconds)
            || !(seconds is >= 0 and <= 3600))
            throw new AnalysisRunnerException("InvalidServerRetrySeconds", ErrorKind.InvalidArgument, text,
                $"{BudgetVariable} is '{text}'; it must be a number of seconds from 0 (no retries) to 3600 (the default is 30).");
        return Default with { Budget = TimeSpan.FromSeconds(seconds) };
    }

    /// <summary>The most time spent waiting between tries, in all.</summary>
    public TimeSpan Budget { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan FirstDelay { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(8);

    /// <summary>How a wait is made (a test makes it an event instead of time); it must end at once when the token is cancelled.</summary>
    public Func<TimeSpan, CancellationToken, Task> Wait { get; init; } = Task.Delay;

    /// <summary>Told before each wait, so whoever waits (a cmdlet's progress bar) can say why. Called on the request's thread.</summary>
    public Action<ServerRetryNotice>? Notify { get; init; }

    /// <summary>
    /// The wait before try <paramref name="retry"/> + 1 (retry counts from 1), having waited
    /// <paramref name="waited"/> so far; null when the budget is spent. A Retry-After longer than the
    /// backoff is honoured, but never past the budget.
    /// </summary>
    public TimeSpan? NextDelay(int retry, TimeSpan waited, TimeSpan? retryAfter)
    {
        var left = Budget - waited;
        if (left <= TimeSpan.Zero) return null;
        var backoff = FirstDelay * Math.Pow(2, Math.Min(retry - 1, 30));
        if (backoff > MaxDelay) backoff = MaxDelay;
        if (retryAfter is { } asked && asked > backoff) backoff = asked;
        return backoff < left ? backoff : left;
    }
}

/// <summary>A 503 that will be asked again: which request, what the server said, and how long until the next try.</summary>
public sealed record ServerRetryNotice(string Request, AnalysisRunnerException Answer, int Retry, TimeSpan Delay, TimeSpan Waited, TimeSpan Budget)
{
    public string Message =>
        $"{Request}: the server answered 503 {Answer.ErrorId} ({Answer.Message.TrimEnd('.')}); trying again in {Delay.TotalSeconds:0.#} s " +
        $"(retry {Retry}, {Waited.TotalSeconds:0.#} of {Budget.TotalSeconds:0.#} s waited). Ctrl+C stops.";
}
