namespace AnalysisRunner.Core.Batch.Building;

/// <summary>A file the batch reads from a bucket (Hail's b.read_input). Its text is the placeholder commands use.</summary>
public class InputResource
{
    internal InputResource(int index, string? path, string? member)
    {
        Index = index;
        Path = path;
        Member = member;
    }

    public int Index { get; }

    /// <summary>The bucket path as given; null for a group's root.</summary>
    public string? Path { get; }

    /// <summary>The member of an input group this is, or null.</summary>
    public string? Member { get; }

    public override string ToString() => ResourcePlaceholder.ForInput(Index, Member);
}

/// <summary>Files read together under one root (Hail's b.read_input_group): group["vcf"] is one file, the group's text is the root.</summary>
public sealed class InputResourceGroup : InputResource
{
    internal InputResourceGroup(int index, IReadOnlyDictionary<string, string> members)
        : base(index, null, null)
    {
        Members = members;
    }

    /// <summary>Member name → bucket path.</summary>
    public IReadOnlyDictionary<string, string> Members { get; }

    public InputResource this[string member] => GetMember(member);

    public InputResource GetMember(string member)
    {
        if (!Members.TryGetValue(member, out var path))
            throw new BatchValidationException("UnknownGroupMember", ErrorKind.InvalidArgument, member,
                $"Input group {Index} has no member '{member}'; it has: {string.Join(", ", Members.Keys)}.");
        return new InputResource(Index, path, member);
    }
}
