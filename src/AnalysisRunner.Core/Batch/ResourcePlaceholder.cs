using System.Text.RegularExpressions;

namespace AnalysisRunner.Core.Batch;

/// <summary>
/// How a resource appears in a command before it has a path: {{ar:J:name}} for job J's resource
/// (J is the job's index), {{ar:J:group/member}} for one file of a resource group, {{ar:in:N}}
/// or {{ar:in:N/member}} for an input. Using another job's placeholder is what makes the dependency;
/// the executor replaces each with a shell-quoted path just before the job runs.
/// </summary>
internal static partial class ResourcePlaceholder
{
    public const string InputOwner = "in";

    [GeneratedRegex(@"\{\{ar:(?<owner>in|\d+):(?<name>[A-Za-z0-9_.\-]+)(?:/(?<member>[A-Za-z0-9_.\-]+))?\}\}")]
    public static partial Regex Pattern();

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")]
    private static partial Regex NamePattern();

    public static string ForJob(int jobIndex, string name, string? member = null) =>
        $"{{{{ar:{jobIndex}:{CheckName(name)}{(member is null ? "" : "/" + CheckName(member))}}}}}";

    public static string ForInput(int inputIndex, string? member = null) =>
        $"{{{{ar:in:{inputIndex}{(member is null ? "" : "/" + CheckName(member))}}}}}";

    public static IEnumerable<PlaceholderUse> Find(string command)
    {
        foreach (Match match in Pattern().Matches(command))
        {
            var owner = match.Groups["owner"].Value;
            var member = match.Groups["member"].Success ? match.Groups["member"].Value : null;
            if (owner == InputOwner)
                yield return new PlaceholderUse(match.Value, null, int.Parse(match.Groups["name"].Value), null, member);
            else
                yield return new PlaceholderUse(match.Value, int.Parse(owner), null, match.Groups["name"].Value, member);
        }
    }

    public static string CheckName(string name)
    {
        if (!NamePattern().IsMatch(name) || name.Length > 100)
            throw new BatchValidationException("InvalidResourceName", ErrorKind.InvalidArgument, name,
                $"Resource name '{name}' may hold only letters, digits, '_', '.' and '-' (at most 100, not starting with '.' or '-').");
        return name;
    }
}

/// <summary>One placeholder found in a command: either a job's resource (JobIndex, Name) or an input (InputIndex).</summary>
internal sealed record PlaceholderUse(string Text, int? JobIndex, int? InputIndex, string? Name, string? Member);
