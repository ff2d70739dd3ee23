using System.Net.Sockets;
using AnalysisRunner.Core.Http;

namespace AnalysisRunner.Core.Runs.Channel;

/// <summary>
/// One batch's run channel: a Unix socket the executor listens on and binds into that batch's
/// sandbox only. One request per connection; a request must arrive whole within a few seconds and
/// within <see cref="RunChannelFrames.MaxRequestBytes"/>; at most a few connections are served at
/// once (the rest are told so and closed), so a job cannot tie up the executor through it.
/// </summary>
internal sealed class RunChannelServer : IDisposable
{
    private const int MaxConnections = 16;
    private static readonly TimeSpan RequestTime = TimeSpan.FromSeconds(30);

    private readonly RunChannelService _service;
    private readonly Socket _listener;
    private readonly CancellationTokenSource _closed = new();
    private readonly SemaphoreSlim _slots = new(MaxConnections);

    public RunChannelServer(RunChannelService service, string socketPath)
    {
        _service = service;
        SocketPath = socketPath;
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            _listener.Bind(new UnixDomainSocketEndPoint(socketPath));
            File.SetUnixFileMode(socketPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            _listener.Listen(16);
        }
        catch
        {
            _listener.Dispose();
            throw;
        }
        _ = AcceptAsync();
    }

    public string SocketPath { get; }

    public long BatchId => _service.BatchId;

    private async Task AcceptAsync()
    {
        while (!_closed.IsCancellationRequested)
        {
            Socket connection;
            try { connection = await _listener.AcceptAsync(_closed.Token).ConfigureAwait(false); }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException) { return; }
            _ = ServeAsync(connection);
        }
    }

    private async Task ServeAsync(Socket connection)
    {
        using var lifetime = connection;
        await using var stream = new NetworkStream(connection, ownsSocket: false);
        try
        {
            if (!await _slots.WaitAsync(0).ConfigureAwait(false))
            {
                await RunChannelFrames.WriteAsync(stream, Refusal(new AnalysisRunnerException("RunChannelBusy", ErrorKind.LimitsExceeded, MaxConnections,
                    $"The run channel serves {MaxConnections} requests at once; try again when one has ended.")), _closed.Token).ConfigureAwait(false);
                return;
            }
            try
            {
                RunChannelRequest? request;
                using (var reading = CancellationTokenSource.CreateLinkedTokenSource(_closed.Token))
                {
                    reading.CancelAfter(RequestTime);
                    try { request = await RunChannelFrames.ReadAsync<RunChannelRequest>(stream, RunChannelFrames.MaxRequestBytes, reading.Token).ConfigureAwait(false); }
                    catch (AnalysisRunnerException refused)
                    {
                        await RunChannelFrames.WriteAsync(stream, Refusal(refused), _closed.Token).ConfigureAwait(false);
                        return;
                    }
                }
                if (request is null) return;
                if (string.IsNullOrEmpty(request.Op))
                {
                    await RunChannelFrames.WriteAsync(stream, Refusal(RunChannelFrames.Invalid("the request names no operation (op)")), _closed.Token).ConfigureAwait(false);
                    return;
                }
                // A wait or a follow ends when the client goes: its next write fails, or the channel closes with the batch.
                await _service.HandleAsync(request, answer => RunChannelFrames.WriteAsync(stream, answer, _closed.Token), _closed.Token).ConfigureAwait(false);
            }
            finally
            {
                _slots.Release();
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The job went, timed out mid-request, or the batch finished: nothing to answer.
        }
    }

    private static RunChannelAnswer Refusal(AnalysisRunnerException error) => new() { Problem = ProblemDocument.From(error) };

    public void Dispose()
    {
        _closed.Cancel();
        _listener.Dispose();
        try { File.Delete(SocketPath); } catch (IOException) { }
    }
}
