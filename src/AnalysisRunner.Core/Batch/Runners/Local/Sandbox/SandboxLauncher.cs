using System.IO.Pipes;
using System.Text;
using AnalysisRunner.Core.Native;

namespace AnalysisRunner.Core.Batch.Runners.Local.Sandbox;

/// <summary>
/// One batch's sandbox: a bwrap running ar-launcher, kept for the batch's life, that starts the batch's
/// job shells inside it (requests on its stdin; "P id pid" and "E id status" back on its stdout). Start
/// sends a request and returns its id at once; Signal reaches the job's process group inside; an end
/// comes back through the exited callback on the reader thread. bwrap is started by a thread of its own
/// that lives as long as the sandbox: --die-with-parent fires when the thread that started it ends.
/// If the sandbox ends while jobs run (killed, or the launcher died), <see cref="Lost"/> is raised and
/// every attempt still running gets status 137 (killed).
/// </summary>
internal sealed class SandboxLauncher : IShellLauncher, IDisposable
{
    private const int Kill = 9;
    private readonly Lock _gate = new();
    private readonly Dictionary<int, Action<int, ProcessUsage?>> _exits = [];
    private readonly Dictionary<int, int> _pids = [];
    private readonly Dictionary<int, int> _pendingSignals = [];
    private readonly AnonymousPipeServerStream _requests = new(PipeDirection.Out, HandleInheritability.None);
    private readonly AnonymousPipeServerStream _answers = new(PipeDirection.In, HandleInheritability.None);
    private readonly ManualResetEventSlim _ended = new();
    private int _nextId;
    private bool _dead;

    private readonly IReadOnlyList<KeyValuePair<string, string>> _environment;

    /// <param name="environment">Variables every job of the sandbox gets, over whatever else it has (the run channel's path).</param>
    public SandboxLauncher(long batchId, string bwrap, IReadOnlyList<string> arguments, JobSpawner spawner, string errorLog,
        IReadOnlyList<KeyValuePair<string, string>>? environment = null)
    {
        BatchId = batchId;
        _environment = environment ?? [];
        Exception? failure = null;
        using var started = new ManualResetEventSlim();
        var thread = new Thread(() =>
        {
            try
            {
                using var errors = AppendFile.Open(errorLog);
                spawner.Start(new SpawnRequest(bwrap, arguments, ["PATH=/usr/bin:/bin"])
                {
                    Stdin = _requests.ClientSafePipeHandle,
                    Stdout = _answers.ClientSafePipeHandle,
                    Stderr = errors,
                }, (_, _) => _ended.Set());
            }
            catch (Exception e) { failure = e; _ended.Set(); }
            finally
            {
                _requests.DisposeLocalCopyOfClientHandle();
                _answers.DisposeLocalCopyOfClientHandle();
                started.Set();
            }
            // Holds the sandbox: it dies with this thread (--die-with-parent), so this thread waits for its end.
            _ended.Wait();
        }) { IsBackground = true, Name = $"sandbox of batch {batchId}" };
        thread.Start();
        started.Wait();
        if (failure is not null)
            throw new AnalysisRunnerException(SandboxMode.NotAvailableErrorId, ErrorKind.ResourceUnavailable, bwrap,
                $"{SandboxMode.NotAvailableErrorId}: the sandbox of batch {batchId} could not be started: {failure.Message}", failure);
        new Thread(ReadAnswers) { IsBackground = true, Name = $"sandbox answers of batch {batchId}" }.Start();
    }

    public long BatchId { get; }

    /// <summary>Raised once, on the reader thread, when the sandbox ends while attempts still ran in it.</summary>
    public event Action<SandboxLauncher>? Lost;

    public bool IsAlive { get { lock (_gate) return !_dead; } }

    public int Start(SpawnRequest request, Action<int, ProcessUsage?> exited)
    {
        var text = new StringBuilder();
        void Field(string value) => text.Append(value).Append('\0');
        int id;
        lock (_gate)
        {
            if (_dead) throw new AnalysisRunnerException(SandboxMode.NotAvailableErrorId, ErrorKind.ResourceUnavailable, BatchId,
                $"{SandboxMode.NotAvailableErrorId}: the sandbox of batch {BatchId} has ended.");
            id = ++_nextId;
            _exits[id] = exited;
        }
        Field("R"); Field(Id(id)); Field(request.Program); Field(request.WorkingDirectory ?? "/");
        Field(request.StdoutPath ?? "/dev/null"); Field(request.StderrPath ?? "/dev/null");
        Field(Id(request.Arguments.Count)); foreach (var argument in request.Arguments) Field(argument);
        // The sandbox's own variables replace any of the same name (getenv takes the first one it finds).
        var variables = request.Environment
            .Where(variable => !_environment.Any(own => variable.StartsWith(own.Key + "=", StringComparison.Ordinal)))
            .Concat(_environment.Select(own => $"{own.Key}={own.Value}")).ToList();
        Field(Id(variables.Count)); foreach (var variable in variables) Field(variable);
        Send(text.ToString());
        return id;
    }

    public void Signal(int shell, int signal)
    {
        lock (_gate)
        {
            if (!_exits.ContainsKey(shell)) return;
            // Not started inside yet: sent once the launcher says it has.
            if (!_pids.ContainsKey(shell)) { _pendingSignals[shell] = signal; return; }
        }
        Send($"K\0{Id(shell)}\0{Id(signal)}\0");
    }

    private void Send(string request)
    {
        var bytes = Encoding.UTF8.GetBytes(request);
        try
        {
            lock (_requests) _requests.Write(bytes);
        }
        catch (IOException) { } // the sandbox is gone: ReadAnswers reports every attempt that ran in it
        catch (ObjectDisposedException) { }
    }

    private void ReadAnswers()
    {
        using var reader = new StreamReader(_answers, Encoding.UTF8);
        while (reader.ReadLine() is { } line)
        {
            var fields = line.Split(' ');
            if (fields.Length < 3 || !int.TryParse(fields[1], out var id) || !int.TryParse(fields[2], out var value)) continue;
            if (fields[0] == "P")
            {
                int? pending = null;
                lock (_gate)
                {
                    _pids[id] = value;
                    if (_pendingSignals.Remove(id, out var signal)) pending = signal;
                }
                if (pending is { } send) Send($"K\0{Id(id)}\0{Id(send)}\0");
            }
            else if (fields[0] == "E")
            {
                Action<int, ProcessUsage?>? exited;
                lock (_gate)
                {
                    _exits.Remove(id, out exited);
                    _pids.Remove(id);
                    _pendingSignals.Remove(id);
                }
                exited?.Invoke(value, LauncherUsage(fields));
            }
        }
        // The sandbox ended: whatever ran in it was killed with it (bwrap is its pid 1).
        List<Action<int, ProcessUsage?>> orphans;
        lock (_gate)
        {
            _dead = true;
            orphans = [.. _exits.Values];
            _exits.Clear();
        }
        if (orphans.Count > 0) Lost?.Invoke(this);
        foreach (var exited in orphans) exited(128 + Kill, null);
    }

    /// <summary>"E id status cpu-µs maxrss-KiB wall-µs": what the launcher measured (wait4); null for a job it never started.</summary>
    private static ProcessUsage? LauncherUsage(string[] fields) =>
        fields.Length == 6 && long.TryParse(fields[3], out var cpu) && long.TryParse(fields[4], out var rss) && long.TryParse(fields[5], out var wall)
            ? ProcessUsage.FromLauncher(cpu, rss, wall)
            : null;

    private static string Id(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Closes the launcher's stdin: it kills what still runs and exits, and bwrap with it.</summary>
    public void Dispose()
    {
        lock (_gate) _dead = true;
        lock (_requests) _requests.Dispose();
    }
}
