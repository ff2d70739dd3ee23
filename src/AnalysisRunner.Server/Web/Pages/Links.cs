using AnalysisRunner.Core.Runs;
using AnalysisRunner.Core.Web;

namespace AnalysisRunner.Server.Web.Pages;

/// <summary>Every page's address: the pages' own from Core's PagePaths (which the cmdlets' Url properties use too), and the server's streams and files, each part escaped.</summary>
public static class Links
{
    public static string AuditLog(string dataset, string ns) => PagePaths.AuditLog(dataset, ns);
    public static string Batch(long batchId) => PagePaths.Batch(batchId);
    public static string Job(long batchId, int jobId) => PagePaths.Job(batchId, jobId);
    public static string Config(string arGuid) => PagePaths.Config(arGuid);
    public static string Usage(string dataset) => PagePaths.Usage(dataset);

    public static string LogEvents(long batchId, int jobId, int attempt, string stream) =>
        $"/batches/{batchId}/jobs/{jobId}/attempts/{attempt}/{stream}/events";

    public static string WebFile(string dataset, string ns, string path) =>
        $"/web/{Uri.EscapeDataString(dataset)}/{Uri.EscapeDataString(ns)}/{string.Join('/', path.Split('/').Select(Uri.EscapeDataString))}";

    /// <summary>
    /// The commit on GitHub when the run's repository is one (the log keeps GitHub repositories as
    /// org/name); null otherwise. Built from validated parts only, so it is always an https link.
    /// </summary>
    public static string? Commit(RunRecord run)
    {
        if (run.Repository is not { } repository || run.Commit is not { } commit) return null;
        var parts = repository.Split('/');
        if (parts.Length != 2 || parts.Any(part => part.Length == 0 || !part.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            || !commit.All(char.IsAsciiHexDigit))
            return null;
        return $"https://github.com/{parts[0]}/{parts[1]}/commit/{commit}";
    }
}
