using AnalysisRunner.Core.Batch.Execution;
using AnalysisRunner.Core.Hosting;

namespace AnalysisRunner.Core.Batch.Runners;

/// <summary>
/// A place jobs run, chosen once by Deployment from the settings ([executor] runner): what clients
/// ask of it (how big a job may be, the logs) and the runner the executor drives.
/// </summary>
public interface IJobRunnerBackend
{
    /// <summary>The settings name: "local".</summary>
    string Name { get; }

    /// <summary>What the runner can give; submit refuses a job bigger than LargestJob.</summary>
    RunnerCapacity Capacity { get; }

    IJobLogReader Logs { get; }

    /// <summary>The backend the jobs of <paramref name="dataset"/> run on (what submit checks their size against): this one unless [executor.datasets] says otherwise.</summary>
    IJobRunnerBackend For(string? dataset) => this;

    /// <summary>The runner the executor of <paramref name="home"/> drives; ends go to <paramref name="sink"/>.</summary>
    internal IJobRunner CreateRunner(ExecutorOptions options, IAttemptSink sink, TextWriter log);
}
