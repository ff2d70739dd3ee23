using AnalysisRunner.Core.Batch.Execution;

namespace AnalysisRunner.Core.Batch;

/// <summary>
/// A job's command as Get-BatchJob shows it, from the moment it is submitted: its commands with every
/// placeholder resolved to the path it will have, and, for a driver, the steps the runner takes
/// before its shell starts (credentials, clone, checkout, cd) as comment lines, then what it runs.
/// </summary>
internal static class JobCommandText
{
    public static string Shown(JobSpec job, ResourcePaths paths, Func<int, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>> groupsOf)
    {
        string commands;
        try
        {
            commands = string.Join('\n', job.Commands.Select(command => paths.ResolveCommand(command, groupsOf)));
        }
        catch (AnalysisRunnerException)
        {
            // Validation refuses what cannot resolve; a batch stored without it keeps its placeholders.
            commands = string.Join('\n', job.Commands);
        }
        if (job.Checkout is not { } checkout) return commands;
        var steps = DriverCheckout.StepsFor(checkout).Select((step, i) => $"# {i + 1}. {step} (by the runner, before this shell starts)");
        return string.Join('\n', steps) + "\n" + commands;
    }
}
