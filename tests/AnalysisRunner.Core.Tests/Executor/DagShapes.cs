using AnalysisRunner.Core.Batch;

namespace AnalysisRunner.Core.Tests.Executor;

/// <summary>
/// The benchmark DAG of issue 7, at any size: a root, a fan-out to n/10 chains of 8, a fan-in, then a
/// chain up to n jobs. Each job cats its parents' files into its own, as the make version does.
/// </summary>
public static class DagShapes
{
    /// <summary>Parent indices of each job index.</summary>
    public static List<int[]> FanOutChainsFanIn(int size)
    {
        var width = Math.Max(1, size / 10);
        var parents = new List<int[]> { Array.Empty<int>() };
        var chainEnds = new List<int>();
        for (var c = 0; c < width; c++)
        {
            var previous = 0;
            for (var step = 0; step < 8; step++)
            {
                parents.Add([previous]);
                previous = parents.Count - 1;
            }
            chainEnds.Add(previous);
        }
        parents.Add([.. chainEnds]);
        while (parents.Count < size) parents.Add([parents.Count - 1]);
        return parents;
    }

    public static JobSpec[] Jobs(List<int[]> parents) =>
        parents.Select((ps, i) => TestHome.Job(i, ps.Length == 0
            ? $"echo root > {ResourcePlaceholder.ForJob(i, "out")}"
            : $"cat {string.Join(' ', ps.Select(p => ResourcePlaceholder.ForJob(p, "out")))} > {ResourcePlaceholder.ForJob(i, "out")}"))
            .ToArray();

    /// <summary>The same DAG as a Makefile: target jN from its parents' files.</summary>
    public static string Makefile(List<int[]> parents)
    {
        var text = new System.Text.StringBuilder();
        text.Append("all: j").Append(parents.Count - 1).Append('\n');
        for (var i = 0; i < parents.Count; i++)
        {
            var ps = string.Join(' ', parents[i].Select(p => "j" + p));
            text.Append('j').Append(i).Append(": ").Append(ps).Append('\n');
            text.Append('\t').Append(ps.Length == 0 ? "echo root > j" + i : $"cat {ps} > j{i}").Append('\n');
        }
        return text.ToString();
    }
}
