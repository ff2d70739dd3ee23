using AnalysisRunner.Core.Batch.Execution;
using AnalysisRunner.Core.Hosting;

namespace AnalysisRunner.Core.Batch.Runners.Local;

/// <summary>Jobs as processes on this machine (the embedded default): settings name "local".</summary>
internal sealed class LocalRunnerBackend(RunnerHome home, RunnerSettings settings, IBatchStore store, Runs.Channel.RunChannelHost channels) : IJobRunnerBackend
{
    public const string SettingsName = "local";

    public string Name => SettingsName;

    public RunnerCapacity Capacity => LocalCapacity.Detect(settings);

    public IJobLogReader Logs { get; } = new LocalJobLogs(home, store);

    IJobRunner IJobRunnerBackend.CreateRunner(ExecutorOptions options, IAttemptSink sink, TextWriter log) =>
        new LocalJobRunner(home, settings, Capacity, options, sink, log, channels);
}
