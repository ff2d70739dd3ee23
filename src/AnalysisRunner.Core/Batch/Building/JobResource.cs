namespace AnalysisRunner.Core.Batch.Building;

/// <summary>
/// A file job <see cref="JobIndex"/> writes (Hail's j.ofile). Its text is a placeholder, so
/// "cat $($j1.Out)" in PowerShell puts it in a command; using it in another job makes that job depend on this one.
/// </summary>
public class JobResource
{
    internal JobResource(JobBuilder job, string name, string? member)
    {
        Job = job;
        Name = ResourcePlaceholder.CheckName(name);
        Member = member is null ? null : ResourcePlaceholder.CheckName(member);
    }

    /// <summary>The job that writes this resource.</summary>
    public JobBuilder Job { get; }
    public int JobIndex => Job.Index;
    public string Name { get; }

    /// <summary>The member of a resource group this is, or null for a plain resource or a group's root.</summary>
    public string? Member { get; }

    public override string ToString() => ResourcePlaceholder.ForJob(JobIndex, Name, Member);
}

/// <summary>
/// Files that travel together under one root (a CRAM and its index): member → file name pattern with {root}.
/// Its own text is the root; group["cram"] (or GetMember("cram")) is one file.
/// </summary>
public sealed class JobResourceGroup : JobResource
{
    internal JobResourceGroup(JobBuilder job, string name, IReadOnlyDictionary<string, string> members)
        : base(job, name, null)
    {
        Members = members;
    }

    /// <summary>Member name → file name pattern, e.g. cram → "{root}.cram".</summary>
    public IReadOnlyDictionary<string, string> Members { get; }

    public JobResource this[string member] => GetMember(member);

    public JobResource GetMember(string member)
    {
        if (!Members.ContainsKey(member))
            throw new BatchValidationException("UnknownGroupMember", ErrorKind.InvalidArgument, member,
                $"Resource group '{Name}' of job '{Job.Name}' (job {Job.JobId}) has no member '{member}'; it has: {string.Join(", ", Members.Keys)}.");
        return new JobResource(Job, Name, member);
    }
}
