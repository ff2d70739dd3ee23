using System.Net.Sockets;
using AnalysisRunner.Core.Batch.Execution;
using AnalysisRunner.Core.Hosting;

namespace AnalysisRunner.Core.Batch;

/// <summary>
/// Lets a waiting client sleep until the executor says a batch has ended, instead of polling the
/// database on a timer: a batch is seen to finish when it does, and a long wait costs the jobs nothing.
/// Without an executor to listen to (none running yet, or it exited), Wait just sleeps; the caller
/// reads the database after each Wait either way, so a lost signal costs at most one timeout.
/// </summary>
public sealed class BatchEndSignal(RunnerHome home) : IDisposable
{
    private static readonly TimeSpan AcknowledgeTimeout = TimeSpan.FromSeconds(2);

    /// <summary>After an executor did not acknowledge (one from before this protocol), how long to just sleep before asking again.</summary>
    private static readonly TimeSpan RetryAfterNoAcknowledge = TimeSpan.FromSeconds(30);

    private Socket? _socket;
    private DateTime _noFollowUntil = DateTime.MinValue;

    /// <summary>Connects now, so that a batch ending between this call and the first Wait is not missed.</summary>
    public void Listen() => _socket ??= TryFollow();

    /// <summary>Returns when a batch ends, when the executor goes away, or after <paramref name="timeout"/>.</summary>
    public void Wait(TimeSpan timeout)
    {
        var socket = _socket ??= TryFollow();
        if (socket is null)
        {
            Thread.Sleep(timeout);
            return;
        }
        try
        {
            if (!socket.Poll(timeout, SelectMode.SelectRead)) return;
            var buffer = new byte[64];
            if (socket.Receive(buffer) > 0) return;
        }
        catch (SocketException) { }
        // The executor exited; the next Wait looks for its successor.
        Drop();
    }

    private Socket? TryFollow()
    {
        var path = ExecutorSocket.PathFor(home);
        if (!File.Exists(path) || DateTime.UtcNow < _noFollowUntil) return null;
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(path));
            socket.Send([ExecutorSocket.Follow]);
            var reply = new byte[1];
            if (socket.Poll(AcknowledgeTimeout, SelectMode.SelectRead) && socket.Receive(reply) == 1 && reply[0] == ExecutorSocket.Following)
                return socket;
            _noFollowUntil = DateTime.UtcNow + RetryAfterNoAcknowledge;
        }
        catch (SocketException) { }
        socket.Dispose();
        return null;
    }

    private void Drop()
    {
        _socket?.Dispose();
        _socket = null;
    }

    public void Dispose() => Drop();
}
