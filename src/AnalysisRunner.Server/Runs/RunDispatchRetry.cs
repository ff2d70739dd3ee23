using AnalysisRunner.Core.Log;
using AnalysisRunner.Server.Hosting;
using AnalysisRunner.Server.Web;

namespace AnalysisRunner.Server.Runs;

/// <summary>
/// Creates the driver batches of logged runs whose dispatch failed after PostgreSQL's commit (the
/// runner home's batch store was locked, full or gone for a moment), without a server restart: a
/// failed dispatch (<see cref="PostgresRunLog.DispatchFailed"/>) wakes it at once, a failing retry
/// backs off (1 s doubling to 30 s), and a sweep every minute catches rows another server process
/// left. Creating a batch is idempotent by ar_guid, so racing the inline dispatch or another server
/// never makes two.
/// </summary>
public sealed class RunDispatchRetry(IServiceProvider services, ServerSettings settings, ILogger<RunDispatchRetry> logger) : BackgroundService
{
    private static readonly TimeSpan FirstDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LongestDelay = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Sweep = TimeSpan.FromMinutes(1);

    private readonly SemaphoreSlim _due = new(0);

    /// <summary>Retries as soon as this log fails a dispatch (the server watches its own log; a test may watch one it made).</summary>
    public void Watch(PostgresRunLog log)
    {
        ArgumentNullException.ThrowIfNull(log);
        log.DispatchFailed += (run, error) =>
        {
            logger.LogWarning(error, "Run {ArGuid} is logged but its driver batch could not be created yet; retrying", run.ArGuid);
            _due.Release();
        };
    }

    /// <summary>Asks for a retry as soon as the service runs (a start-up dispatch that failed).</summary>
    public void RetrySoon() => _due.Release();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (settings is not { RunnerHome: not null, RunsInDatabase: true }) return;
        // Opening the home here may fail like any dispatch (the start-up dispatch already opened it, so rarely).
        try
        {
            if (services.GetRequiredService<RunnerHomeAccess>().Deployment.RunLog is PostgresRunLog log) Watch(log);
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            logger.LogWarning(error, "The runner home could not be opened to watch dispatches; sweeping every {Sweep}", Sweep);
        }
        var delay = FirstDelay;
        var failing = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // While failing, wait out the backoff whatever arrives, so a burst of failed dispatches is one retry, not one each.
                if (failing) await Task.Delay(delay, stoppingToken);
                else await _due.WaitAsync(Sweep, stoppingToken);
                while (_due.CurrentCount > 0) await _due.WaitAsync(0, stoppingToken);
                await ServerHost.DispatchPendingRunsAsync(services, stoppingToken);
                if (failing) logger.LogInformation("Driver batches are created again");
                failing = false;
                delay = FirstDelay;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception error)
            {
                if (!failing) logger.LogWarning(error, "Creating the driver batches of logged runs failed; retrying with backoff");
                else delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, LongestDelay.Ticks));
                failing = true;
            }
        }
    }

    public override void Dispose()
    {
        _due.Dispose();
        base.Dispose();
    }
}
