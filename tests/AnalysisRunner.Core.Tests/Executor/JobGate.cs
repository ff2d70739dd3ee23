using AnalysisRunner.Core.Batch;

namespace AnalysisRunner.Core.Tests.Executor;

/// <summary>
/// A lock a test holds and jobs wait on (`flock -s`, in <see cref="WaitCommand"/>): a job passes
/// it only after <see cref="Open"/>, so how far a job has got is something the test decides, not
/// a race between a `sleep` and a loaded machine.
/// </summary>
public sealed class JobGate : IDisposable
{
    private FileStream? _held;

    public JobGate(string path)
    {
        Path = path;
        // .NET takes FileShare.None as an exclusive flock on Linux, the lock `flock -s` waits for.
        _held = new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.None);
    }

    public string Path { get; }

    /// <summary>A job command that returns once the gate is open.</summary>
    public string WaitCommand => $"flock -s {ShellQuoting.Quote(Path)} true";

    public void Open()
    {
        _held?.Dispose();
        _held = null;
    }

    public void Dispose() => Open();
}
