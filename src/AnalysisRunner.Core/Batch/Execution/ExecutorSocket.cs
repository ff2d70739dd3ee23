using System.Net.Sockets;

namespace AnalysisRunner.Core.Batch.Execution;

/// <summary>
/// The one-byte protocol on the executor's Unix socket. Client to executor: 'S' asks it to stop,
/// 'F' to follow batch ends, 'P' to follow every change as well, any other byte wakes it. Executor
/// to a follower: 'A' acknowledges, then 'E' whenever a batch ends and, to 'P' followers, 'C' when a
/// round of transitions has been committed (job states moved).
/// </summary>
internal static class ExecutorSocket
{
    /// <summary>sun_path holds 108 bytes with its terminating NUL; stay well inside it.</summary>
    private const int MaxSocketPathBytes = 100;   // and one more for the name it is bound under first

    public const byte Wake = (byte)'W';
    public const byte Stop = (byte)'S';
    public const byte FollowEnds = (byte)'F';
    public const byte FollowChanges = (byte)'P';
    public const byte Following = (byte)'A';
    public const byte BatchEnded = (byte)'E';
    public const byte Changed = (byte)'C';

    /// <summary>
    /// &lt;home&gt;/executor.sock, or, for a home whose path is too long for a Unix socket, a short path in
    /// /tmp named by a hash of the home (the same for every process of that home, so nothing needs recording).
    /// </summary>
    public static string PathFor(Hosting.RunnerHome home)
    {
        var inHome = home.ExecutorSocketPath;
        if (System.Text.Encoding.UTF8.GetByteCount(inHome) <= MaxSocketPathBytes) return inHome;
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(home.Root)))[..24];
        return Path.Combine("/tmp", $"ar-executor-{hash}.sock");
    }

    /// <summary>Sends one byte to a live executor; false when none is listening.</summary>
    public static bool TrySend(string socketPath, byte message)
    {
        if (!File.Exists(socketPath)) return false;
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            socket.Connect(new UnixDomainSocketEndPoint(socketPath));
            socket.Send([message]);
            socket.Shutdown(SocketShutdown.Send);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>
    /// Binds and listens under a temporary name, then renames the socket into place: its name appears
    /// only once it accepts connections, so a client woken by its appearance (inotify) can connect.
    /// </summary>
    public static Socket Listen(string socketPath)
    {
        // Only the lock holder gets here, so a socket file left behind belongs to a dead executor.
        var binding = socketPath + "~";
        File.Delete(socketPath);
        File.Delete(binding);
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(binding));
        listener.Listen(64);
        File.Move(binding, socketPath);
        return listener;
    }
}
