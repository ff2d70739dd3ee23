namespace AnalysisRunner.Core.Batch;

/// <summary>
/// A NUL is refused in every text of a batch before it is stored. No command, argument, variable or
/// path can carry one (exec's strings and the sandbox launcher's fields end at one), and PostgreSQL's
/// text cannot hold one: a job name or command with a NUL failed the insert with an SQL error, and
/// one inside a variable or attribute was stored escaped in the job's JSON, which PostgreSQL then
/// refused to read as jsonb, so the batch's jobs could no longer be listed (Get-BatchJob, the server's
/// job routes and pages).
/// </summary>
internal static class BatchTexts
{
    public const string NulErrorId = "NulCharacterInBatch";

    public static void RefuseNul(BatchSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        Check(spec.Name, "the batch's name", spec.Name);
        Check(spec.TmpRoot, "the batch's tmp root", spec.Name);
        Check(spec.ConfigPath, "the batch's config path", spec.Name);
        Pairs(spec.Attributes, "a batch attribute", spec.Name);
        foreach (var input in spec.Inputs)
        {
            Check(input.Path, $"input {input.Index}", spec.Name);
            if (input.Group is { } group) Pairs(group, $"input group {input.Index}", spec.Name);
        }
        foreach (var job in spec.Jobs)
        {
            var label = $"job {job.Index + 1}";
            Check(job.Name, $"the name of {label}", spec.Name);
            foreach (var command in job.Commands) Check(command, $"a command of {label}", job.Name);
            Check(job.Image, $"the image of {label}", job.Name);
            Check(job.Shell, $"the shell of {label}", job.Name);
            Pairs(job.Environment, $"a variable of {label}", job.Name);
            Pairs(job.Attributes, $"an attribute of {label}", job.Name);
            foreach (var (group, members) in job.ResourceGroups)
            {
                Check(group, $"a resource group of {label}", job.Name);
                Pairs(members, $"resource group '{Shown(group)}' of {label}", job.Name);
            }
            foreach (var output in job.Outputs)
            {
                Check(output.Resource, $"an output of {label}", job.Name);
                Check(output.Destination, $"an output destination of {label}", job.Name);
            }
        }
    }

    private static void Pairs(IEnumerable<KeyValuePair<string, string>> pairs, string what, string target)
    {
        foreach (var (name, value) in pairs)
        {
            Check(name, what + " (its name)", target);
            Check(value, $"{what} ('{Shown(name)}')", target);
        }
    }

    private static void Check(string? text, string what, string target)
    {
        if (text is not null && text.Contains('\0', StringComparison.Ordinal))
            throw new BatchValidationException(NulErrorId, ErrorKind.InvalidArgument, Shown(target),
                $"{char.ToUpperInvariant(what[0])}{what[1..]} of batch or job '{Shown(target)}' holds a NUL character, which no command, variable or path can carry; remove it.");
    }

    private static string Shown(string text) => text.Replace("\0", "\\0", StringComparison.Ordinal);
}
