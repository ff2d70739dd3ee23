using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Runs;
using AnalysisRunner.Core.Runs.Channel;
using AnalysisRunner.Core.Tests.Executor;

namespace AnalysisRunner.Core.Tests.Runs;

/// <summary>
/// A batch's run channel as a hostile job would use it: whatever the request says, the channel
/// answers for the run of the batch it was made for, and refuses anything of another run.
/// </summary>
public sealed class RunChannelTests : RunChannelTestBase
{
    private static BatchSpec Honest(string? arGuid = null) => new()
    {
        Name = "sub", ArGuid = arGuid, TmpRoot = $"gs://cpg-{Dataset}-test-tmp/batch", Jobs = [TestHome.Job(0, "true")],
    };

    [Fact]
    public async Task A_channel_says_who_its_batch_is_and_refuses_another_runs_batches_jobs_logs_and_waits()
    {
        var (mine, myBatch) = await RunWithBatchAsync();
        var (_, theirBatch) = await RunWithBatchAsync();
        using var server = (await OpenChannelAsync(myBatch))!;
        var channel = new RunChannel(server.SocketPath);

        var identity = channel.Identity();
        Assert.Equal(mine.ArGuid, identity.Run.ArGuid);
        Assert.Equal(myBatch, identity.BatchId);
        Assert.Equal(myBatch, (await channel.GetBatchAsync(myBatch))!.Id);
        Assert.Single(await channel.GetJobsAsync(myBatch));

        Assert.Equal(RunChannelService.OutsideRunErrorId, (await Assert.ThrowsAnyAsync<AnalysisRunnerException>(() => channel.GetBatchAsync(theirBatch))).ErrorId);
        Assert.Equal(RunChannelService.OutsideRunErrorId, (await Assert.ThrowsAnyAsync<AnalysisRunnerException>(() => channel.GetJobsAsync(theirBatch))).ErrorId);
        Assert.Equal(RunChannelService.OutsideRunErrorId, (await Assert.ThrowsAnyAsync<AnalysisRunnerException>(() => channel.RequestCancelAsync(theirBatch))).ErrorId);
        Assert.Equal(RunChannelService.OutsideRunErrorId,
            (await Assert.ThrowsAnyAsync<AnalysisRunnerException>(() => channel.FindBatchesAsync(new BatchQuery { ArGuid = "someone-else" }))).ErrorId);
        Assert.False((await _home.Store.GetBatchAsync(theirBatch))!.CancelRequested);
        // Listing without naming a run lists this run's batches only.
        Assert.Equal([myBatch], (await channel.FindBatchesAsync(new BatchQuery())).Select(batch => batch.Id));
    }

    [Fact]
    public async Task A_channel_refuses_to_wait_on_or_read_the_log_of_another_runs_batch()
    {
        var (_, myBatch) = await RunWithBatchAsync();
        var (_, theirBatch) = await RunWithBatchAsync();
        using var server = (await OpenChannelAsync(myBatch))!;
        var channel = new RunChannel(server.SocketPath);
        var wait = await Assert.ThrowsAnyAsync<AnalysisRunnerException>(() => channel.WaitAsync([myBatch, theirBatch], TimeSpan.FromSeconds(1), CancellationToken.None));
        Assert.Equal(RunChannelService.OutsideRunErrorId, wait.ErrorId);
        var log = await Assert.ThrowsAnyAsync<AnalysisRunnerException>(async () =>
        {
            await foreach (var _ in channel.ReadLogAsync(theirBatch, 1, 1, Core.Batch.Runners.LogStream.Stdout, follow: false, CancellationToken.None)) { }
        });
        Assert.Equal(RunChannelService.OutsideRunErrorId, log.ErrorId);
    }

    [Fact]
    public async Task A_batch_sent_over_a_channel_gets_the_channels_run_and_cannot_claim_another_or_a_checkout()
    {
        var (mine, myBatch) = await RunWithBatchAsync();
        var (theirs, _) = await RunWithBatchAsync();
        using var server = (await OpenChannelAsync(myBatch))!;
        var channel = new RunChannel(server.SocketPath);
        var before = (await _home.Store.FindBatchesAsync(new BatchQuery())).Count;

        Assert.Equal("ProtectedBatchAttribute", Assert.ThrowsAny<AnalysisRunnerException>(() => channel.Check(Honest(theirs.ArGuid))).ErrorId);
        Assert.Equal("ProtectedBatchAttribute", Assert.ThrowsAny<AnalysisRunnerException>(() =>
            channel.Check(Honest() with { Attributes = new Dictionary<string, string> { ["dataset"] = "other", ["access_level"] = "standard" } })).ErrorId);
        Assert.Equal("JobCheckoutNotAllowed", Assert.ThrowsAny<AnalysisRunnerException>(() =>
            channel.Check(Honest() with { Jobs = [TestHome.Job(0, "true") with { Checkout = new CheckoutSpec("/etc", new string('0', 40), ".") }] })).ErrorId);
        Assert.Equal(before, (await _home.Store.FindBatchesAsync(new BatchQuery())).Count);

        var checkedSpec = channel.Check(Honest());
        Assert.Equal(mine.ArGuid, checkedSpec.ArGuid);
        Assert.Equal(mine.ConfigPath, checkedSpec.ConfigPath);
        Assert.Equal(Dataset, checkedSpec.Attributes["dataset"]);
        Assert.Equal("test", checkedSpec.Attributes["access_level"]);
    }

    [Fact]
    public async Task A_batch_outside_any_run_gets_no_channel()
    {
        var outside = await _home.Store.SubmitAsync(_home.Batch(TestHome.Job(0, "true")));
        Assert.Null(await OpenChannelAsync(outside));
    }

    [Theory]
    [InlineData("oversized", RunChannelFrames.TooLargeErrorId)]
    [InlineData("negative", RunChannelFrames.TooLargeErrorId)]
    [InlineData("malformed", RunChannelFrames.InvalidErrorId)]
    [InlineData("truncated", RunChannelFrames.InvalidErrorId)]
    [InlineData("no-op", RunChannelFrames.InvalidErrorId)]
    [InlineData("unknown-op", RunChannelService.UnknownRequestErrorId)]
    [InlineData("null-jobs", RunChannelFrames.InvalidErrorId)]
    public async Task Oversized_malformed_and_unknown_messages_are_refused_by_their_error_id_and_the_channel_goes_on(string message, string errorId)
    {
        var (mine, myBatch) = await RunWithBatchAsync();
        using var server = (await OpenChannelAsync(myBatch))!;
        byte[] Framed(string json)
        {
            var body = Encoding.UTF8.GetBytes(json);
            var frame = new byte[4 + body.Length];
            BinaryPrimitives.WriteInt32BigEndian(frame, body.Length);
            body.CopyTo(frame, 4);
            return frame;
        }
        var bytes = message switch
        {
            "oversized" => [0x7f, 0xff, 0xff, 0xff],
            "negative" => [0xff, 0xff, 0xff, 0xff],
            "malformed" => Framed("{\"op\": [unclosed"),
            "truncated" => Framed("{\"op\":\"whoami\"}")[..8],
            "no-op" => Framed("{}"),
            "null-jobs" => Framed("{\"op\":\"submit\",\"spec\":{\"name\":\"n\",\"tmpRoot\":\"/tmp\",\"jobs\":null}}"),
            _ => Framed("{\"op\":\"dropTables\"}"),
        };
        using (var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(server.SocketPath));
            await using var stream = new NetworkStream(socket);
            await socket.SendAsync(bytes);
            socket.Shutdown(SocketShutdown.Send);
            var answer = await RunChannelFrames.ReadAsync<RunChannelAnswer>(stream, RunChannelFrames.MaxAnswerBytes, CancellationToken.None);
            Assert.Equal(errorId, answer!.Problem!.ErrorId);
        }
        Assert.Equal(mine.ArGuid, new RunChannel(server.SocketPath).Identity().Run.ArGuid);
    }

    [Fact]
    public async Task The_socket_of_a_channel_is_its_owners_only_and_goes_with_its_batch()
    {
        var (_, myBatch) = await RunWithBatchAsync();
        var server = (await OpenChannelAsync(myBatch))!;
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(server.SocketPath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(server.SocketPath)!));
        server.Dispose();
        Assert.False(File.Exists(server.SocketPath));
        Assert.Equal("RunChannelUnavailable", Assert.ThrowsAny<AnalysisRunnerException>(() => new RunChannel(server.SocketPath).Identity()).ErrorId);
    }
}
