using AnalysisRunner.Core;
using AnalysisRunner.Core.Policy;
using AnalysisRunner.Core.Usage;

namespace AnalysisRunner.Server.Web;

/// <summary>
/// The usage page's reads: Core's DatasetUsage (the query Get-AnalysisUsage makes, so both show the
/// same figures) over the namespaces of the dataset the caller may read; none is 403 NotADatasetMember.
/// How far back it reaches is the settings' [usage] max_days (UsageWindow), checked after membership.
/// </summary>
public sealed class UsageReader(RunnerHomeAccess home, Hosting.ServerSettings settings)
{
    public Task<UsageReport> ReadAsync(string caller, string dataset, DateOnly since, CancellationToken cancellationToken)
    {
        var deployment = home.Deployment;
        var registry = deployment.LoadRegistry();
        var readable = new[] { "test", "main" }.Where(ns => DatasetReadAccess.MayRead(registry, caller, dataset, ns)).ToHashSet();
        if (readable.Count == 0) DatasetReadAccess.Check(registry, caller, dataset, "test");
        return new DatasetUsage(deployment.RunLog, deployment.Batches, settings.UsageWindow).ReportAsync(dataset, since, level => readable.Contains(level.Namespace()), cancellationToken);
    }
}
