using AnalysisRunner.Core.Batch;
using AnalysisRunner.Core.Runs;

namespace AnalysisRunner.Core.Web;

/// <summary>
/// Where the web pages of a runner are served ([web] url in settings.toml, or a server's own
/// address): the one place absolute page addresses are made, and the Url a run, batch or job carries.
/// Only an absolute http or https address with no user info, query or fragment is accepted: it is
/// printed for people to open and handed to their browser, so it must be a plain page address.
/// </summary>
public sealed class WebAddress
{
    private readonly string _root;

    private WebAddress(Uri root)
    {
        Root = root;
        _root = root.GetLeftPart(UriPartial.Path).TrimEnd('/');
    }

    /// <summary>The site's root, e.g. http://127.0.0.1:5080/ (a server behind a proxy may have a path prefix).</summary>
    public Uri Root { get; }

    /// <summary>Checks <paramref name="text"/>; <paramref name="source"/> (the settings file, a variable) is named in the error.</summary>
    public static WebAddress Parse(string text, string source)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!Uri.TryCreate(text.Trim(), UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || uri.UserInfo.Length > 0 || uri.Query.Length > 0 || uri.Fragment.Length > 0 || uri.Host.Length == 0)
        {
            // A password in the address is not repeated into errors and logs.
            var shown = uri is { UserInfo.Length: > 0 } ? text.Replace(uri.UserInfo + "@", "", StringComparison.Ordinal) : text;
            throw new ConfigException("InvalidWebAddress", ErrorKind.InvalidData, shown,
                $"The web address '{shown}' in {source} is not usable: it must be an absolute http:// or https:// address "
                + "with no user name, query or fragment, such as \"http://127.0.0.1:5080\".");
        }
        return new WebAddress(uri);
    }

    /// <summary>What Show-* and anything needing a page says when neither the home nor a server gives a web address.</summary>
    public static AnalysisRunnerException NotConfigured(string settingsPath) =>
        new ConfigException("WebAddressNotConfigured", ErrorKind.InvalidOperation, settingsPath,
            $"No web address is configured, so there is no page to show. Set [web] url = \"http://127.0.0.1:5080\" in '{settingsPath}' "
            + "(where the runner's web pages are served), or point the module at a server with Set-AnalysisRunnerServer.");

    public string Batch(long batchId) => _root + PagePaths.Batch(batchId);
    public string Job(long batchId, int jobId) => _root + PagePaths.Job(batchId, jobId);
    /// <summary>The log page a run of this level is listed on: test's for test, main's for standard and full.</summary>
    public string AuditLog(string dataset, AccessLevel level) => _root + PagePaths.AuditLog(dataset, level.Namespace());
    public string Config(string arGuid) => _root + PagePaths.Config(arGuid);
    public string Usage(string dataset) => _root + PagePaths.Usage(dataset);

    /// <summary>
    /// A run's page is its driver batch's: where its steps, its log and its sub-batches are. A run whose
    /// driver batch is still to be created (0, a server's dispatch being retried) has no page yet.
    /// </summary>
    public RunRecord Linked(RunRecord run) => run.Url is null && run.DriverBatchId > 0 ? run with { Url = Batch(run.DriverBatchId) } : run;
    public BatchInfo Linked(BatchInfo batch) => batch.Url is null ? batch with { Url = Batch(batch.Id) } : batch;
    public JobInfo Linked(JobInfo job) => job.Url is null ? job with { Url = Job(job.BatchId, job.JobId) } : job;

    /// <summary>A run, batch or job with its Url; anything else as it is.</summary>
    public object? Linked(object? value) => value switch
    {
        RunRecord run => Linked(run),
        BatchInfo batch => Linked(batch),
        JobInfo job => Linked(job),
        _ => value,
    };

    public override string ToString() => _root + "/";
}
