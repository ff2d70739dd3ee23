using System.Net;
using System.Text.RegularExpressions;
using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Runs;
using AnalysisRunner.Core.Tests.TestSupport;

namespace AnalysisRunner.Core.Tests.Web;

/// <summary>What the pages show a member, and that nothing user-controlled becomes markup.</summary>
[RequiresPostgres]
[Collection(PostgresWebCollection.Name)]
public sealed class WebPagesTests(PostgresFixture postgres) : WebTest(postgres)
{
    [BackendFact]
    public async Task The_audit_log_page_shows_a_run_with_links_to_its_commit_config_driver_batch_sub_batches_and_rerun()
    {
        var run = await World.AddRunAsync(description: "say hello");
        var sub = await World.AddSubBatchAsync(run);

        var page = await PageAsync(AliceToken, "/analysis-runner/fewgenomes-test");

        Assert.Contains($"data-ar-guid=\"{run.ArGuid}\"", page);
        Assert.Contains("say hello", page);
        Assert.Contains("href=\"https://github.com/populationgenomics/analysis-runner/commit/0123456789abcdef0123456789abcdef01234567\"", page);
        Assert.Contains($"href=\"/configs/{run.ArGuid}\"", page);
        Assert.Contains($"class=\"driver\" href=\"/batches/{run.DriverBatchId}\"", page);
        Assert.Contains($"class=\"sub-batch\" href=\"/batches/{sub}\"", page);
        Assert.Contains($"Get-AnalysisLog -ArGuid &#39;{run.ArGuid}&#39; | Submit-Analysis", page);
    }

    [BackendFact]
    public async Task The_audit_log_page_filters_by_user_date_and_text_and_keeps_namespaces_apart()
    {
        var old = await World.AddRunAsync(description: "old run", timestamp: new DateTimeOffset(2026, 1, 2, 12, 0, 0, TimeSpan.Zero));
        var recent = await World.AddRunAsync(description: "recent run");
        var main = await World.AddRunAsync(description: "main run", level: AccessLevel.Standard);

        var byText = await PageAsync(AliceToken, "/analysis-runner/fewgenomes-test?q=RECENT");
        var byDate = await PageAsync(AliceToken, "/analysis-runner/fewgenomes-test?from=2026-01-01&to=2026-01-02");
        var byUser = await PageAsync(AliceToken, "/analysis-runner/fewgenomes-test?user=carol@example.org");
        var mainPage = await PageAsync(AliceToken, "/analysis-runner/fewgenomes-main");

        Assert.Contains(recent.ArGuid, byText);
        Assert.DoesNotContain(old.ArGuid, byText);
        Assert.Contains(old.ArGuid, byDate);
        Assert.DoesNotContain(recent.ArGuid, byDate);
        Assert.Contains("No runs match", byUser);
        Assert.Contains(main.ArGuid, mainPage);
        Assert.DoesNotContain(recent.ArGuid, mainPage);
    }

    [BackendFact]
    public async Task A_script_tag_in_a_description_attribute_command_or_log_is_shown_as_text_never_as_markup()
    {
        const string attack = "<script>alert('x')</script><img src=x onerror=alert(1)>";
        var run = await World.AddRunAsync(description: attack);
        var sub = await World.AddSubBatchAsync(run, "printf '%s\\n' " + ShellQuoting.Quote(attack));
        World.WaitForBatch(sub);
        Assert.Contains(attack, World.Executor.Stdout(sub, 2));

        var pages = new[]
        {
            await PageAsync(AliceToken, "/analysis-runner/fewgenomes-test"),
            await PageAsync(AliceToken, $"/batches/{run.DriverBatchId}"),
            await PageAsync(AliceToken, $"/batches/{sub}/jobs/2"),
            await PageAsync(AliceToken, $"/configs/{run.ArGuid}"),
        };

        foreach (var page in pages)
        {
            Assert.DoesNotContain("<script>alert", page);
            Assert.DoesNotContain("<img src=x", page);
            Assert.Contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;", page);
        }
        // The only scripts a page has are the server's own file.
        Assert.All(pages, page => Assert.All(Regex.Matches(page, "<script[^>]*>").Select(match => match.Value),
            tag => Assert.Equal("<script src=\"/static/follow.js\" defer>", tag)));
    }

    [BackendFact]
    public async Task Pages_forbid_inline_script_and_framing()
    {
        var run = await World.AddRunAsync();
        using var client = Browser(AliceToken);
        using var response = await client.GetAsync($"/batches/{run.DriverBatchId}");

        var policy = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self'", policy);
        Assert.DoesNotContain("unsafe-inline", policy);
        Assert.Contains("frame-ancestors 'none'", policy);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
    }

    [BackendFact]
    public async Task The_batch_page_draws_the_DAG_coloured_by_state_with_an_edge_from_the_resource_it_reads_and_a_job_table()
    {
        var run = await World.AddRunAsync();
        using var gate = new Executor.JobGate(Path.Combine(World.HomePath, "gate"));
        var sub = await World.AddSubBatchAsync(run, gate.WaitCommand);
        await World.WaitForJobAsync(sub, 2, JobState.Running);

        var page = await PageAsync(AliceToken, $"/batches/{sub}");

        Assert.Contains("<svg class=\"dag\"", page);
        Assert.Contains("data-from=\"1\" data-to=\"2\"", page);
        Assert.Contains("<g class=\"job\" data-job=\"1\" data-state=\"Succeeded\">", page);
        Assert.Contains("<g class=\"job\" data-job=\"2\" data-state=\"Running\">", page);
        Assert.Contains("fill=\"#2da44e\"", page);
        Assert.Contains($"href=\"/batches/{sub}/jobs/2\"", page);
        Assert.Matches("<td class=\"state Succeeded\">Succeeded</td>\\s*<td>0</td>", page);
        Assert.Contains($"href=\"/configs/{run.ArGuid}\"", page);
    }

    [BackendFact]
    public async Task The_job_page_shows_command_image_resources_config_link_and_each_attempts_logs()
    {
        var run = await World.AddRunAsync();
        var sub = await World.AddSubBatchAsync(run, "echo 'a warning' >&2");
        World.WaitForBatch(sub);

        var page = await PageAsync(AliceToken, $"/batches/{sub}/jobs/2");

        Assert.Contains("<pre id=\"command\">", page);
        Assert.Contains("cat ", page);
        Assert.Contains("registry.example.org/approved/base:1", page);
        Assert.Contains("1 CPU, 1 MiB memory", page);
        Assert.Contains($"<a class=\"config\" href=\"/configs/{run.ArGuid}\">{run.ConfigPath}</a>", page);
        Assert.Contains("<pre class=\"log stdout\">Hello\n</pre>", page);
        Assert.Contains("<pre class=\"log stderr\">a warning\n</pre>", page);
        Assert.DoesNotContain("data-follow", page);
    }

    [BackendFact]
    public async Task The_config_page_shows_the_runs_TOML_and_which_file_set_each_key()
    {
        var run = await World.AddRunAsync(
            configToml: "[workflow]\ndataset = \"fewgenomes\"\nsequencing_type = \"genome\"\n",
            snapshots: [new ConfigSnapshot("configs/genome.toml", "[workflow]\nsequencing_type = \"genome\"\n")]);

        var page = await PageAsync(AliceToken, $"/configs/{run.ArGuid}");

        Assert.Contains("sequencing_type = &quot;genome&quot;", page);
        Assert.Matches("<code>workflow.sequencing_type</code></td><td>configs/genome.toml</td>", page);
        Assert.Matches("<code>workflow.dataset</code></td><td>the runner", page);
    }

    [BackendFact]
    public async Task The_usage_page_counts_the_jobs_of_the_datasets_runs_by_day_user_and_batch_with_a_chart()
    {
        var run = await World.AddRunAsync();
        var sub = await World.AddSubBatchAsync(run);
        World.WaitForBatch(run.DriverBatchId);
        World.WaitForBatch(sub);
        await World.AddRunAsync(dataset: "othergenomes", user: WebWorld.Bob);

        var page = await PageAsync(AliceToken, "/usage/fewgenomes");

        var today = DateTime.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains("<svg class=\"chart\"", page);
        Assert.Contains($"<g class=\"bar\" data-day=\"{today}\"", page);
        Assert.Matches($"<tr><td>{today}</td><td>3</td>", page);
        Assert.Matches($"<tr><td>{Regex.Escape(WebWorld.Alice)}</td><td>3</td>", page);
        Assert.Matches($"<tr><td><a href=\"/batches/{sub}\">{sub}</a></td><td>2</td>", page);
        Assert.DoesNotContain(WebWorld.Bob, page);
    }

    [BackendFact]
    public async Task The_usage_page_refuses_a_first_day_outside_the_window_as_a_page()
    {
        using var client = Browser(AliceToken);
        using var response = await client.GetAsync("/usage/fewgenomes?since=0001-01-01");

        var page = await response.Content.ReadAsStringAsync();
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("data-error-id=\"UsageWindowTooLong\"", page);
        Assert.Contains("Usage since 0001-01-01 reaches back", page);
    }

    [BackendFact]
    public async Task The_usage_page_shows_the_measured_figures_of_the_same_query_as_Get_AnalysisUsage()
    {
        var run = await World.AddRunAsync();
        var sub = await World.AddSubBatchAsync(run);
        World.WaitForBatch(run.DriverBatchId);
        World.WaitForBatch(sub);
        var today = DateOnly.FromDateTime(DateTime.UtcNow);

        var page = await PageAsync(AliceToken, "/usage/fewgenomes");
        var batchPage = await PageAsync(AliceToken, $"/batches/{sub}");

        var query = new Core.Usage.DatasetUsage(World.Deployment.RunLog, World.Deployment.Batches, Core.Usage.UsageWindow.Default);
        foreach (var by in Enum.GetValues<Core.Usage.UsageGrouping>())
        {
            var rows = await query.QueryAsync("fewgenomes", today, by, _ => true);
            Assert.NotEmpty(rows);
            foreach (var row in rows)
            {
                // Every job here ran to its end under the executor, so every figure is measured.
                Assert.Equal(0, row.AllocatedOnlyJobs);
                Assert.True(row.CpuSeconds >= 0 && row.MemoryGibSeconds > 0 && row.WallSeconds > 0, $"{by} {row.Key}");
                var figures = string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"<td>{row.Jobs}</td><td>{row.CpuSeconds:0.#}</td><td>{row.MemoryGibSeconds:0.###}</td><td>{row.WallSeconds:0.#}</td><td class=\"allocated-only\">0</td>");
                Assert.Contains(figures, page);
            }
        }
        foreach (var job in (await World.Deployment.Batches.GetJobsAsync(sub)))
            Assert.Contains(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"<td class=\"used-cpu\">{job.CpuSeconds:0.##} s</td>"), batchPage);
    }

    [BackendFact]
    public async Task The_home_page_lists_only_the_callers_dataset_namespaces()
    {
        var alice = await PageAsync(AliceToken, "/");
        var bob = await PageAsync(BobToken, "/");

        Assert.Contains("href=\"/analysis-runner/fewgenomes-test\"", alice);
        Assert.Contains("href=\"/analysis-runner/fewgenomes-main\"", alice);
        Assert.DoesNotContain("othergenomes", alice);
        Assert.DoesNotContain("fewgenomes", bob);
    }

    [BackendFact]
    public async Task A_browser_without_a_session_is_sent_to_sign_in_and_back()
    {
        using var client = Browser(null);
        using var response = await client.GetAsync("/batches/1?x=y");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/signin?returnUrl=%2Fbatches%2F1%3Fx%3Dy", response.Headers.Location!.OriginalString);
    }
}
