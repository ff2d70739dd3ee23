using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Runs;
using AnalysisRunner.Core.Runs.Channel;
using AnalysisRunner.Core.Tests.Runs;
using AnalysisRunner.Core.Tests.TestSupport;

namespace AnalysisRunner.Core.Tests.Executor;

/// <summary>
/// Red team 2 (issue 13): a hostile job on its batch's run channel, trying to break the executor's end
/// rather than to be answered for another run: requests that are JSON of the right shape but hold
/// what the executor does not expect, and more connections than it serves. Each asserts the executor
/// answers with a typed refusal (never drops the job without a word, never stops serving).
/// </summary>
[Trait(TestCategory.Name, TestCategory.Slow)]
public sealed class RunChannelAbuseTests : RunChannelTestBase
{
    private static byte[] Framed(string json)
    {
        var body = Encoding.UTF8.GetBytes(json);
        var frame = new byte[4 + body.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, body.Length);
        body.CopyTo(frame, 4);
        return frame;
    }

    /// <summary>Sends one framed request and reads one answer; null when the executor closed without answering.</summary>
    private static async Task<RunChannelAnswer?> Exchange(string socketPath, string json)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath));
        await using var stream = new NetworkStream(socket);
        await socket.SendAsync(Framed(json));
        socket.Shutdown(SocketShutdown.Send);
        try { return await RunChannelFrames.ReadAsync<RunChannelAnswer>(stream, RunChannelFrames.MaxAnswerBytes, CancellationToken.None); }
        catch (AnalysisRunnerException) { return null; }
    }

    /// <summary>
    /// JSON the frame reader accepts (it has an op) whose contents the service does not expect: a null job
    /// in a batch, a null batch id in a wait, a job of no commands, a log of an attempt that never was, a
    /// huge First. Each must come back as a problem with an ErrorId, and nothing of it stored.
    /// </summary>
    [Theory]
    [InlineData("{\"op\":\"submit\",\"spec\":{\"name\":\"x\",\"tmpRoot\":\"gs://cpg-fewgenomes-test-tmp/batch\",\"jobs\":[null]}}")]
    [InlineData("{\"op\":\"submit\",\"spec\":{\"name\":\"x\",\"tmpRoot\":\"gs://cpg-fewgenomes-test-tmp/batch\",\"jobs\":[{\"index\":0,\"name\":\"j\",\"commands\":null}]}}")]
    [InlineData("{\"op\":\"submit\",\"spec\":{\"name\":\"x\",\"tmpRoot\":\"gs://cpg-fewgenomes-test-tmp/batch\",\"jobs\":[{\"index\":0,\"name\":\"j\",\"commands\":[\"true\"],\"environment\":{\"A\":null}}]}}")]
    [InlineData("{\"op\":\"submit\",\"spec\":{\"name\":\"x\",\"tmpRoot\":\"gs://cpg-fewgenomes-test-tmp/batch\",\"jobs\":[{\"index\":5,\"name\":\"j\",\"commands\":[\"true\"],\"dependsOn\":[-3]}]}}")]
    [InlineData("{\"op\":\"wait\",\"batchIds\":[null]}")]
    [InlineData("{\"op\":\"log\",\"batchId\":BATCH,\"jobId\":-1,\"attempt\":-1}")]
    [InlineData("{\"op\":\"jobs\",\"batchId\":-9223372036854775808}")]
    public async Task A_request_of_the_right_shape_holding_what_the_executor_does_not_expect_is_refused_with_an_error_id_and_stores_nothing(string json)
    {
        var (run, batchId) = await RunWithBatchAsync();
        using var server = (await OpenChannelAsync(batchId))!;

        var answer = await Exchange(server.SocketPath, json.Replace("BATCH", batchId.ToString(System.Globalization.CultureInfo.InvariantCulture)));

        Assert.True(answer is not null, $"the executor closed the channel without an answer (an exception it did not turn into a problem) to {json}");
        Assert.True(answer.Problem is { ErrorId.Length: > 0 }, $"{json} was answered {answer.Result}, not refused");
        var stored = await _home.Store.FindBatchesAsync(new BatchQuery { ArGuid = run.ArGuid });
        Assert.True(stored.Count == 1, $"{json} stored a batch: {string.Join(", ", stored.Select(b => b.Id))}");
        Assert.Equal(run.ArGuid, new RunChannel(server.SocketPath).Identity().Run.ArGuid);
    }

    /// <summary>
    /// A job opens far more connections than the channel serves and sends nothing on them: beyond the
    /// ones it serves, each is told RunChannelBusy and closed by the executor (so it holds no descriptor
    /// for them), and once the job lets go of the ones being served the channel answers again.
    /// </summary>
    [Fact]
    public async Task A_flood_of_idle_connections_is_refused_beyond_what_the_channel_serves_and_the_channel_serves_again_when_they_go()
    {
        var (run, batchId) = await RunWithBatchAsync();
        using var server = (await OpenChannelAsync(batchId))!;
        var idle = new List<Socket>();
        try
        {
            var busy = 0;
            for (var i = 0; i < 100; i++)
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try { await socket.ConnectAsync(new UnixDomainSocketEndPoint(server.SocketPath)); }
                catch (SocketException) { socket.Dispose(); busy++; continue; } // the listen queue is full: refused by the kernel
                idle.Add(socket);
            }
            // Every connection beyond those served is answered Busy and closed; the served ones wait for a
            // request and never answer. So all are listened to at once, until every one beyond what the
            // channel serves has answered (the deadline is only for a channel that never does).
            var beyondServed = Math.Max(0, idle.Count - ServedAtOnce);
            var answeredBusy = 0;
            using var enough = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            await Task.WhenAll(idle.Select(async socket =>
            {
                if (!await AnsweredBusy(socket, enough.Token)) return;
                if (Interlocked.Increment(ref answeredBusy) >= beyondServed) await enough.CancelAsync();
            }));
            busy += answeredBusy;
            Assert.InRange(busy, 100 - ServedAtOnce, 100 - 1);
        }
        finally
        {
            foreach (var socket in idle) socket.Dispose();
        }

        // The served connections end when the job closes them (a read of nothing), freeing their slots.
        RunChannelAnswer? answer = null;
        for (var tries = 0; tries < 200 && answer?.Result is null; tries++)
            answer = await Exchange(server.SocketPath, "{\"op\":\"whoami\"}");
        Assert.True(answer?.Result is not null, $"the channel did not serve again: {answer?.Problem?.ErrorId}");
        Assert.Equal(run.ArGuid, new RunChannel(server.SocketPath).Identity().Run.ArGuid);
    }

    /// <summary>How many connections a run channel serves at once (RunChannelServer's limit).</summary>
    private const int ServedAtOnce = 16;

    /// <summary>Whether the connection gets a RunChannelBusy answer (or is closed) before <paramref name="stop"/>.</summary>
    private static async Task<bool> AnsweredBusy(Socket socket, CancellationToken stop)
    {
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        try
        {
            var answer = await RunChannelFrames.ReadAsync<RunChannelAnswer>(stream, RunChannelFrames.MaxAnswerBytes, stop);
            return answer is null || answer.Problem?.ErrorId == "RunChannelBusy";
        }
        catch (IOException) { return true; } // reset by the executor: refused too
        catch (OperationCanceledException) { return false; }
    }

    /// <summary>
    /// What a stored job whose environment holds a null value does to the executor: it must fail that job
    /// (or refuse it at submit), and go on running every other batch, another run's among them.
    /// </summary>
    [Fact]
    public async Task A_job_with_a_null_environment_value_sent_over_the_channel_does_not_stop_the_executor_for_other_batches()
    {
        var (run, batchId) = await RunWithBatchAsync();
        using var server = (await OpenChannelAsync(batchId))!;
        var answer = await Exchange(server.SocketPath,
            "{\"op\":\"submit\",\"spec\":{\"name\":\"x\",\"tmpRoot\":\"gs://cpg-fewgenomes-test-tmp/batch\",\"jobs\":[{\"index\":0,\"name\":\"j\",\"commands\":[\"true\"],\"environment\":{\"A\":null}}]}}");
        Assert.NotNull(answer);

        // The executor picks up the stored batch (if it was stored), then another batch outside this run.
        var other = await _home.SubmitAndWakeAsync(TestHome.Job(0, "echo other"));
        var otherBatch = _home.WaitForBatch(other, seconds: 120);

        Assert.True(otherBatch.State == BatchState.Succeeded, $"another batch did not run after the attack: {otherBatch.State}; executor log: {_home.ExecutorLog()}");
        foreach (var batch in (await _home.Store.FindBatchesAsync(new BatchQuery { ArGuid = run.ArGuid })).Where(b => b.Name == "x"))
            Assert.True(_home.WaitForBatch(batch.Id, seconds: 120).IsComplete, $"the attack's batch {batch.Id} never ended; executor log: {_home.ExecutorLog()}");
    }
}
