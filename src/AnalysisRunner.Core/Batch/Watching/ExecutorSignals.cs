using System.Net.Sockets;
using AnalysisRunner.Core.Batch.Execution;
using AnalysisRunner.Core.Hosting;

namespace AnalysisRunner.Core.Batch.Watching;

/// <summary>
/// A client's end of the executor's socket: it follows batch ends (and, with changes, every committed
/// round of transitions). Waiting is one poll on the socket; nothing is read from the database until
/// the executor says something moved.
/// </summary>
internal sealed class ExecutorSignals : IDisposable
{
    private static readonly TimeSpan AcknowledgeTimeout = TimeSpan.FromSeconds(5);
    private readonly Socket _socket;

    private ExecutorSignals(Socket socket) => _socket = socket;

    /// <summary>Readable when a signal arrived or the executor went away.</summary>
    public System.Runtime.InteropServices.SafeHandle Handle => _socket.SafeHandle;

    /// <summary>Following the executor of <paramref name="home"/>, or null when none is listening.</summary>
    public static ExecutorSignals? TryConnect(RunnerHome home, bool changes)
    {
        var path = ExecutorSocket.PathFor(home);
        if (!File.Exists(path)) return null;
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(path));
            socket.Send([changes ? ExecutorSocket.FollowChanges : ExecutorSocket.FollowEnds]);
            var reply = new byte[1];
            if (socket.Poll(AcknowledgeTimeout, SelectMode.SelectRead) && socket.Receive(reply) == 1 && reply[0] == ExecutorSocket.Following)
                return new ExecutorSignals(socket);
        }
        catch (SocketException) { }
        socket.Dispose();
        return null;
    }

    /// <summary>What arrived since the last drain, without waiting.</summary>
    public Signal Drain()
    {
        var seen = Signal.None;
        var buffer = new byte[256];
        try
        {
            while (_socket.Available > 0 || _socket.Poll(0, SelectMode.SelectRead))
            {
                var count = _socket.Receive(buffer);
                if (count == 0) return seen | Signal.Gone;
                for (var i = 0; i < count; i++)
                    seen |= buffer[i] == ExecutorSocket.BatchEnded ? Signal.BatchEnded : Signal.Changed;
            }
        }
        catch (SocketException) { return seen | Signal.Gone; }
        catch (ObjectDisposedException) { return seen | Signal.Gone; }
        return seen;
    }

    /// <summary>Ends the connection from this side: a poll waiting on it returns.</summary>
    public void Shutdown()
    {
        try { _socket.Shutdown(SocketShutdown.Both); }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
    }

    public void Dispose() => _socket.Dispose();
}

[Flags]
internal enum Signal
{
    None = 0,
    Changed = 1,
    BatchEnded = 2,
    /// <summary>The executor closed the connection (it exited or is exiting).</summary>
    Gone = 4,
}
