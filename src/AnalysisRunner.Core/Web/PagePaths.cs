namespace AnalysisRunner.Core.Web;

/// <summary>
/// Every web page's path below the site's root, built in one place from ids and names, each part
/// escaped. The server's pages link with these; <see cref="WebAddress"/> makes them absolute for
/// the cmdlets' Url properties and Show-*.
/// </summary>
public static class PagePaths
{
    public static string AuditLog(string dataset, string ns) => $"/analysis-runner/{Uri.EscapeDataString(dataset)}-{Uri.EscapeDataString(ns)}";
    public static string Batch(long batchId) => $"/batches/{batchId}";
    public static string Job(long batchId, int jobId) => $"/batches/{batchId}/jobs/{jobId}";
    public static string Config(string arGuid) => $"/configs/{Uri.EscapeDataString(arGuid)}";
    public static string Usage(string dataset) => $"/usage/{Uri.EscapeDataString(dataset)}";
}
