using System.Runtime.InteropServices;

namespace AnalysisRunner.Core.Batch.Execution;

/// <summary>Signals to a job's whole process group (bash runs as a session leader, so its pid is the group id).</summary>
internal static class ProcessSignals
{
    public const int SigKill = 9;
    public const int SigTerm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    public static bool SignalGroup(int processGroup, int signal) => processGroup > 1 && Kill(-processGroup, signal) == 0;

    public static bool Signal(int pid, int signal) => pid > 1 && Kill(pid, signal) == 0;
}
