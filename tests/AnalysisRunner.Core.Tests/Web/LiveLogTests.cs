using System.Net;
using System.Text.Json;
using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Tests.Executor;
using AnalysisRunner.Core.Tests.TestSupport;

namespace AnalysisRunner.Core.Tests.Web;

/// <summary>A running job's page follows its log: the events stream sends lines as the job writes them, and "end" when it is over.</summary>
[RequiresPostgres]
[Collection(PostgresWebCollection.Name)]
public sealed class LiveLogTests(PostgresFixture postgres) : WebTest(postgres)
{
    [BackendFact]
    public async Task The_log_of_a_running_job_grows_on_its_events_stream_and_ends_when_the_job_does()
    {
        var run = await World.AddRunAsync();
        using var gate = new JobGate(Path.Combine(World.HomePath, "gate"));
        var sub = await World.AddSubBatchAsync(run, "echo first", gate.WaitCommand, "echo 'second <b>bold</b>'");
        World.Executor.WaitUntil(() => World.Executor.Stdout(sub, 2).Contains("first"), 60, sub);

        var page = await PageAsync(AliceToken, $"/batches/{sub}/jobs/2");
        Assert.Contains($"data-follow=\"/batches/{sub}/jobs/2/attempts/1/stdout/events\" data-offset=\"2\">Hello\nfirst\n</pre>", page);

        using var browser = Browser(AliceToken);
        browser.Timeout = Timeout.InfiniteTimeSpan;
        using var response = await browser.GetAsync($"/batches/{sub}/jobs/2/attempts/1/stdout/events?from=1", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        using var events = new StreamReader(await response.Content.ReadAsStreamAsync());

        Assert.Equal(("2", null, "first\n"), await NextEventAsync(events));
        gate.Open();
        Assert.Equal(("3", null, "second <b>bold</b>\n"), await NextEventAsync(events));
        Assert.Equal((null, "end", ""), await NextEventAsync(events));
        Assert.Equal(BatchState.Succeeded, World.WaitForBatch(sub).State);
    }

    [BackendFact]
    public async Task A_reconnecting_browser_resumes_after_the_last_line_it_had()
    {
        var run = await World.AddRunAsync();
        var sub = await World.AddSubBatchAsync(run, "echo one", "echo two");
        World.WaitForBatch(sub);

        using var browser = Browser(AliceToken);
        browser.DefaultRequestHeaders.Add("Last-Event-ID", "2");
        using var response = await browser.GetAsync($"/batches/{sub}/jobs/2/attempts/1/stdout/events", HttpCompletionOption.ResponseHeadersRead);
        using var events = new StreamReader(await response.Content.ReadAsStreamAsync());

        Assert.Equal(("3", null, "two\n"), await NextEventAsync(events));
        Assert.Equal((null, "end", ""), await NextEventAsync(events));
    }

    /// <summary>One server-sent event: its id, its type (null for a message) and its data, decoded from JSON.</summary>
    private static async Task<(string? Id, string? Type, string Data)> NextEventAsync(StreamReader events)
    {
        string? id = null, type = null, data = null;
        while (await events.ReadLineAsync() is { } line)
        {
            if (line.Length == 0 && data is not null) return (id, type, JsonSerializer.Deserialize<string>(data)!);
            if (line.StartsWith("id: ", StringComparison.Ordinal)) id = line[4..];
            else if (line.StartsWith("event: ", StringComparison.Ordinal)) type = line[7..];
            else if (line.StartsWith("data: ", StringComparison.Ordinal)) data = line[6..];
        }
        throw new EndOfStreamException("The event stream ended before a whole event.");
    }
}
