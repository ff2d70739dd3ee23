using System.Text.RegularExpressions;

namespace AnalysisRunner.Core.Policy;

/// <summary>
/// The output directory is a prefix inside the dataset's bucket, never a location of its own:
/// no scheme, no absolute path, no way up with '..'. Otherwise a run could write anywhere.
/// </summary>
internal sealed partial class OutputDirRule : IExplainingPolicyRule
{
    public string Name => "OutputDir";

    public void Check(PolicyRequest request, DatasetRegistry registry) => Normalize(request.OutputDir);

    public string Explain(PolicyRequest request, DatasetRegistry registry) =>
        $"'{Normalize(request.OutputDir)}' is a relative prefix inside the dataset's bucket";

    /// <summary>The prefix without trailing '/'; refuses anything that is not a plain relative path.</summary>
    public static string Normalize(string raw)
    {
        if (string.IsNullOrWhiteSpace(raw))
            throw Refuse(raw, "it is empty");
        if (Scheme().IsMatch(raw))
            throw Refuse(raw, "it has a scheme (such as gs://, s3:// or file://); the bucket comes from the dataset and access level");
        if (raw.StartsWith('/') || raw.StartsWith('~') || Path.IsPathRooted(raw))
            throw Refuse(raw, "it is an absolute path");
        if (raw.Contains('\\'))
            throw Refuse(raw, "it contains '\\'; separate folders with '/'");
        if (raw.Any(char.IsControl))
            throw Refuse(raw, "it contains control characters");

        var trimmed = raw.TrimEnd('/');
        foreach (var segment in trimmed.Split('/'))
        {
            if (segment == "..") throw Refuse(raw, "it has a '..' segment, which would leave the output prefix");
            if (segment == ".") throw Refuse(raw, "it has a '.' segment");
            if (segment.Length == 0) throw Refuse(raw, "it has an empty segment ('//')");
            if (segment.Trim().Length == 0 || segment != segment.Trim())
                throw Refuse(raw, "a segment starts or ends with whitespace");
        }
        return trimmed;
    }

    private static PolicyViolationException Refuse(string? raw, string why) =>
        new("InvalidOutputDir", ErrorKind.InvalidArgument, raw,
            $"Output directory '{raw}' is not allowed: {why}. Give a relative path inside the dataset's bucket, such as 'onboarding/alice/run1'.");

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9+.-]*:")]
    private static partial Regex Scheme();
}
