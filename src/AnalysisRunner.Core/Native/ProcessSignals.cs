using static AnalysisRunner.Core.Native.NativeMethods;

namespace AnalysisRunner.Core.Native;

/// <summary>Signals to a job's whole process group (its shell leads a session, so its pid is the group id) or to one process.</summary>
internal static class ProcessSignals
{
    public const int Kill = SIGKILL;
    public const int Terminate = SIGTERM;

    public static bool SignalGroup(int processGroup, int signal) => processGroup > 1 && kill(-processGroup, signal) == 0;

    public static bool Signal(int pid, int signal) => pid > 1 && kill(pid, signal) == 0;
}
