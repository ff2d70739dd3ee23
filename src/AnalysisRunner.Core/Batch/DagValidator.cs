namespace AnalysisRunner.Core.Batch;

/// <summary>
/// Refuses, at submit, a batch that could never finish: no jobs, a job with nothing to run, a job
/// bigger than the executor, a placeholder nobody writes, two copies to one destination, or a cycle.
/// Every message names the jobs by name and id. Linear in jobs + edges, and never recursive, so a
/// 10,000-job chain is as easy as a 10,000-job fan-out.
/// </summary>
public static class DagValidator
{
    private const int MaxListed = 5;

    public static void Validate(BatchSpec spec, double maxCpu, long maxMemoryBytes)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var jobs = spec.Jobs;
        if (jobs.Count == 0)
            throw Refuse("EmptyBatch", spec.Name, $"Batch '{spec.Name}' has no jobs; add one with Add-BatchJob.");
        for (var i = 0; i < jobs.Count; i++)
        {
            if (jobs[i].Index != i)
                throw Refuse("InvalidJobIndex", jobs[i].Name,
                    $"Job {Label(jobs[i])} sits at position {i}; a job's Index must be its position in the batch.");
        }

        var noCommand = jobs.Where(job => !job.Commands.Any(command => !string.IsNullOrWhiteSpace(command))).ToList();
        if (noCommand.Count > 0)
            throw Refuse("JobHasNoCommand", Names(noCommand),
                $"{Count(noCommand.Count, "job has", "jobs have")} no command: {List(noCommand.Select(Label))}. Add one with Add-BatchJobCommand.");

        CheckSize(jobs, maxCpu, maxMemoryBytes);
        var uses = jobs.Select(Uses).ToArray();
        CheckPlaceholders(spec, uses);
        CheckOutputs(jobs);
        CheckAcyclic(jobs, uses);
    }

    /// <summary>
    /// The jobs that must finish before <paramref name="job"/> starts: its DependsOn, and the owners
    /// of every other job's placeholder in its commands and outputs. Distinct, in first-seen order.
    /// </summary>
    public static IReadOnlyList<int> Parents(JobSpec job) => Parents(job, Uses(job));

    private static List<int> Parents(JobSpec job, JobUses uses)
    {
        var seen = new HashSet<int>();
        var parents = new List<int>();
        foreach (var index in job.DependsOn.Concat(uses.All.Where(use => use.JobIndex is not null).Select(use => use.JobIndex!.Value)))
        {
            if (index != job.Index && seen.Add(index)) parents.Add(index);
        }
        return parents;
    }

    private static void CheckSize(IReadOnlyList<JobSpec> jobs, double maxCpu, long maxMemoryBytes)
    {
        var tooBig = jobs.Where(job => job.Cpu > maxCpu || job.MemoryBytes > maxMemoryBytes).ToList();
        if (tooBig.Count == 0) return;
        var details = tooBig.Select(job =>
            $"{Label(job)} asks for {job.Cpu} cpu and {ResourceQuantity.FormatBytes(job.MemoryBytes)} memory");
        throw Refuse("ResourcesExceedExecutor", Names(tooBig),
            $"{Count(tooBig.Count, "job asks", "jobs ask")} for more than the executor has " +
            $"({maxCpu} cpu, {ResourceQuantity.FormatBytes(maxMemoryBytes)} memory): {List(details)}.", ErrorKind.LimitsExceeded);
    }

    private static void CheckPlaceholders(BatchSpec spec, JobUses[] uses)
    {
        var jobs = spec.Jobs;
        var written = new HashSet<string>?[jobs.Count];
        HashSet<string> WrittenBy(int owner) => written[owner] ??= uses[owner].Commands
            .Where(use => use.JobIndex == owner).Select(use => use.Name!).ToHashSet(StringComparer.Ordinal);

        var missingInputs = new List<(JobSpec Job, string Text, string Why)>();
        var notWritten = new List<(JobSpec Job, string Text, string Why)>();
        for (var i = 0; i < jobs.Count; i++)
        {
            var job = jobs[i];
            foreach (var use in uses[i].Commands)
                CheckUse(job, use, isOutput: false);
            foreach (var use in uses[i].Outputs)
                CheckUse(job, use, isOutput: true);
            foreach (var output in job.Outputs.Where(output => !ResourcePlaceholder.Find(output.Resource).Any(use => use.JobIndex is not null)))
                notWritten.Add((job, output.Resource, $"is not a job resource (copy to {output.Destination})"));
        }

        if (missingInputs.Count > 0)
            throw Refuse("InputNotFound", Names(missingInputs.Select(m => m.Job)),
                $"{Count(missingInputs.Count, "input placeholder reads", "input placeholders read")} nothing: " +
                $"{List(missingInputs.Select(m => $"{Label(m.Job)} uses {m.Text}, which {m.Why}"))}. Read files with Read-BatchInput.");
        if (notWritten.Count > 0)
            throw Refuse("ResourceNotWritten", Names(notWritten.Select(m => m.Job)),
                $"{Count(notWritten.Count, "resource is", "resources are")} read but no job writes them: " +
                $"{List(notWritten.Select(m => $"{Label(m.Job)} uses {m.Text}, which {m.Why}"))}. " +
                "A job writes a resource by using its own placeholder (e.g. $j.Out) in one of its commands.");

        void CheckUse(JobSpec job, PlaceholderUse use, bool isOutput)
        {
            if (use.InputIndex is { } inputIndex)
            {
                var why = InputProblem(spec.Inputs, inputIndex, use.Member);
                if (why is not null) missingInputs.Add((job, use.Text, why));
                return;
            }
            var owner = use.JobIndex!.Value;
            if (owner < 0 || owner >= jobs.Count)
            {
                notWritten.Add((job, use.Text, $"names job {owner + 1}, and the batch has {jobs.Count}"));
                return;
            }
            var ownerJob = jobs[owner];
            if (use.Member is not null
                && !(ownerJob.ResourceGroups.TryGetValue(use.Name!, out var members) && members.ContainsKey(use.Member)))
            {
                notWritten.Add((job, use.Text, $"is not a member of a resource group {Label(ownerJob)} declares"));
                return;
            }
            var readsAnotherJob = owner != job.Index || isOutput;
            if (readsAnotherJob && !WrittenBy(owner).Contains(use.Name!))
                notWritten.Add((job, use.Text, $"{Label(ownerJob)} never mentions in its commands"));
        }
    }

    private static string? InputProblem(IReadOnlyList<InputSpec> inputs, int index, string? member)
    {
        if (index < 0 || index >= inputs.Count)
            return $"is input {index}, and the batch reads {Count(inputs.Count, "input", "inputs")}";
        var input = inputs[index];
        if (member is null) return null;
        if (input.Group is null) return $"asks for member '{member}' of input {index}, which is a single file";
        return input.Group.ContainsKey(member) ? null : $"asks for member '{member}' of input group {index}, which has {string.Join(", ", input.Group.Keys)}";
    }

    private static void CheckOutputs(IReadOnlyList<JobSpec> jobs)
    {
        var claimed = new Dictionary<string, (JobSpec Job, string Resource)>(StringComparer.Ordinal);
        var clashes = new List<string>();
        var clashingJobs = new List<JobSpec>();
        var destinations = new List<string>();
        foreach (var job in jobs)
        {
            foreach (var output in job.Outputs)
            {
                var key = output.Destination.TrimEnd('/');
                if (claimed.TryGetValue(key, out var first))
                {
                    clashes.Add($"{Label(first.Job)} and {Label(job)} both write to {output.Destination}");
                    clashingJobs.Add(first.Job);
                    clashingJobs.Add(job);
                    destinations.Add(output.Destination);
                }
                else
                {
                    claimed[key] = (job, output.Resource);
                }
            }
        }
        if (clashes.Count > 0)
            throw Refuse("DuplicateOutput", destinations.Count == 1 ? destinations[0] : destinations.ToArray(),
                $"{Count(clashes.Count, "destination is", "destinations are")} written twice: {List(clashes)}. Each Write-BatchOutput needs its own destination.");
    }

    /// <summary>Kahn's algorithm; whatever it cannot order holds a cycle, found by walking parents until one repeats.</summary>
    private static void CheckAcyclic(IReadOnlyList<JobSpec> jobs, JobUses[] uses)
    {
        var count = jobs.Count;
        var parents = new List<int>[count];
        var children = new List<int>?[count];
        var waiting = new int[count];
        var badDependencies = new List<string>();
        for (var i = 0; i < count; i++)
        {
            if (jobs[i].DependsOn.Contains(i))
                throw Refuse("DependencyCycle", new[] { jobs[i].Name }, $"Job {Label(jobs[i])} depends on itself: {Label(jobs[i])} → {Label(jobs[i])}.");
            parents[i] = Parents(jobs[i], uses[i]);
            foreach (var parent in parents[i])
            {
                // Placeholders out of range were refused already; only a DependsOn can get here.
                if (parent < 0 || parent >= count)
                {
                    badDependencies.Add($"{Label(jobs[i])} depends on job {parent + 1}");
                    continue;
                }
                (children[parent] ??= []).Add(i);
                waiting[i]++;
            }
        }
        if (badDependencies.Count > 0)
            throw Refuse("DependencyNotFound", badDependencies.ToArray(),
                $"The batch has {count} jobs, so {List(badDependencies)} cannot be met.");

        var ready = new Queue<int>();
        for (var i = 0; i < count; i++)
            if (waiting[i] == 0) ready.Enqueue(i);
        var ordered = 0;
        while (ready.TryDequeue(out var job))
        {
            ordered++;
            foreach (var child in children[job] ?? [])
                if (--waiting[child] == 0) ready.Enqueue(child);
        }
        if (ordered == count) return;

        // Every job left waits on at least one other job left, so walking parents must come back round.
        var start = Enumerable.Range(0, count).First(i => waiting[i] > 0);
        var stepOf = new Dictionary<int, int>();
        var walk = new List<int>();
        var current = start;
        while (!stepOf.ContainsKey(current))
        {
            stepOf[current] = walk.Count;
            walk.Add(current);
            current = parents[current].First(parent => parent >= 0 && parent < count && waiting[parent] > 0);
        }
        // Walked child → parent; report parent → child, starting from the lowest job id so the message is stable.
        var loop = walk.Skip(stepOf[current]).Reverse().ToList();
        var lowest = loop.IndexOf(loop.Min());
        var cycle = loop.Skip(lowest).Concat(loop.Take(lowest)).ToList();
        cycle.Add(cycle[0]);
        throw Refuse("DependencyCycle", cycle.Take(cycle.Count - 1).Select(i => jobs[i].Name).ToArray(),
            $"The jobs wait on each other in a cycle, so none of them can start: {string.Join(" → ", cycle.Select(i => Label(jobs[i])))} " +
            "(each uses a resource of, or depends on, the one before it).");
    }

    private static JobUses Uses(JobSpec job) => new(
        job.Commands.SelectMany(ResourcePlaceholder.Find).ToList(),
        job.Outputs.SelectMany(output => ResourcePlaceholder.Find(output.Resource)).ToList());

    private static string Label(JobSpec job) => $"'{job.Name}' (job {job.Index + 1})";

    private static string[] Names(IEnumerable<JobSpec> jobs) => jobs.Select(job => job.Name).Distinct().ToArray();

    private static string List(IEnumerable<string> items)
    {
        var all = items.ToList();
        var shown = string.Join("; ", all.Take(MaxListed));
        return all.Count > MaxListed ? $"{shown}; and {all.Count - MaxListed} more" : shown;
    }

    private static string Count(int n, string one, string many) => n == 1 ? $"1 {one}" : $"{n} {many}";

    private static BatchValidationException Refuse(string errorId, object? target, string message, ErrorKind kind = ErrorKind.InvalidArgument) =>
        new(errorId, kind, target, message);

    private sealed record JobUses(List<PlaceholderUse> Commands, List<PlaceholderUse> Outputs)
    {
        public IEnumerable<PlaceholderUse> All => Commands.Concat(Outputs);
    }
}
