using System.Diagnostics;
using AnalysisRunner.Core.Batch;
using Xunit.Abstractions;

namespace AnalysisRunner.Core.Tests.Executor;

public sealed class ScaleTests(ITestOutputHelper output) : IDisposable
{
    private readonly TestHome _home = new();

    public void Dispose() => _home.Dispose();

    /// <summary>Not a timed assertion: prints our wall time beside make -j2 on the same DAG. Runs only with AR_MEASURE=1.</summary>
    [Fact]
    public void Measure_against_make()
    {
        if (Environment.GetEnvironmentVariable("AR_MEASURE") != "1") return;
        var size = int.Parse(Environment.GetEnvironmentVariable("AR_MEASURE_SIZE") ?? "1000");
        var parents = DagShapes.FanOutChainsFanIn(size);

        var makeDir = Path.Combine(_home.Root, "make");
        Directory.CreateDirectory(makeDir);
        File.WriteAllText(Path.Combine(makeDir, "Makefile"), DagShapes.Makefile(parents));
        var clock = Stopwatch.StartNew();
        using (var make = Process.Start(new ProcessStartInfo("make", "-s -j2") { WorkingDirectory = makeDir })!) make.WaitForExit();
        var makeTime = clock.Elapsed;

        clock.Restart();
        var id = _home.SubmitAndWake(DagShapes.Jobs(parents));
        var batch = _home.WaitForBatch(id, seconds: 600);
        var ours = clock.Elapsed;
        var pid = ExecutorClient.RunningProcessId(_home.Home);
        var hwm = pid is null ? "?" : File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmHWM"));
        if (pid is not null)
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            hwm += $", cpu {(long.Parse(fields[11]) + long.Parse(fields[12])) / 100.0:F2}s";
        }
        Assert.Equal(BatchState.Succeeded, batch.State);
        output.WriteLine($"{size} jobs: ours {ours.TotalSeconds:F2}s, make -j2 {makeTime.TotalSeconds:F2}s, ratio {ours / makeTime:F2}; executor {hwm}");
        Console.WriteLine($"MEASURE {size} jobs: ours {ours.TotalSeconds:F2}s, make -j2 {makeTime.TotalSeconds:F2}s, ratio {ours / makeTime:F2}; executor {hwm}");
    }
}
