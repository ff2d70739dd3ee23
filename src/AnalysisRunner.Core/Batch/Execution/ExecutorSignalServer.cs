using System.Net.Sockets;
using AnalysisRunner.Core.Hosting;

namespace AnalysisRunner.Core.Batch.Execution;

/// <summary>
/// The executor's end of its socket: wake-ups and stop requests become scheduler events; followers
/// are told when a batch ends (and, if they asked, when job states change), so a waiting client
/// sleeps in one read instead of polling the database.
/// </summary>
internal sealed class ExecutorSignalServer(RunnerHome home, Action wake, Action stop) : IDisposable
{
    private readonly Dictionary<Socket, bool> _followers = [];   // follower → wants every change
    private Socket? _listener;

    public bool Listening => _listener is not null;

    public void Open()
    {
        if (_listener is not null) return;
        var listener = ExecutorSocket.Listen(ExecutorSocket.PathFor(home));
        _listener = listener;
        _ = Accept(listener);
    }

    /// <summary>Stops listening; followers see their connection close and look for the next executor.</summary>
    public void Close()
    {
        if (_listener is null) return;
        _listener.Dispose();
        _listener = null;
        lock (_followers)
        {
            foreach (var follower in _followers.Keys) follower.Dispose();
            _followers.Clear();
        }
        try { File.Delete(ExecutorSocket.PathFor(home)); } catch (IOException) { }
    }

    /// <summary>Tells every follower a batch has ended (and change followers that states moved).</summary>
    public void BatchEnded() => Send(ExecutorSocket.BatchEnded, everyone: true);

    /// <summary>Tells change followers a round of transitions has been committed.</summary>
    public void Changed() => Send(ExecutorSocket.Changed, everyone: false);

    private void Send(byte message, bool everyone)
    {
        lock (_followers)
            foreach (var (follower, changes) in _followers)
            {
                if (!everyone && !changes) continue;
                // Never block the scheduler on a slow client: a full buffer already holds an unread signal.
                try { follower.Send([message], SocketFlags.None, out _); }
                catch (SocketException) { }
                catch (ObjectDisposedException) { }
            }
    }

    private async Task Accept(Socket listener)
    {
        while (true)
        {
            Socket connection;
            try { connection = await listener.AcceptAsync(); }
            catch (Exception e) when (e is SocketException or ObjectDisposedException) { return; }
            _ = Read(connection);
        }
    }

    private async Task Read(Socket connection)
    {
        using var connectionLifetime = connection;
        // A client that only wakes us has 10 s to say so; one that follows stays as long as it likes.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var buffer = new byte[64];
        var following = false;
        try
        {
            int count;
            while ((count = await connection.ReceiveAsync(buffer, SocketFlags.None, following ? CancellationToken.None : timeout.Token)) > 0)
                for (var i = 0; i < count; i++)
                {
                    var message = buffer[i];
                    if (message is ExecutorSocket.FollowEnds or ExecutorSocket.FollowChanges && !following)
                    {
                        following = true;
                        // Acknowledged before it joins, so 'A' always comes before the first signal. One
                        // byte into an empty buffer does not block; later sends never do.
                        connection.Blocking = false;
                        lock (_followers)
                        {
                            connection.Send([ExecutorSocket.Following], SocketFlags.None, out _);
                            _followers[connection] = message == ExecutorSocket.FollowChanges;
                        }
                    }
                    else if (message == ExecutorSocket.Stop) stop();
                    else wake();
                }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException) { }
        finally
        {
            lock (_followers) _followers.Remove(connection);
        }
    }

    public void Dispose() => Close();
}
