using AnalysisRunner.Core.Batch;

namespace AnalysisRunner.Core.Tests.Executor;

/// <summary>
/// The benchmark DAG of issue 7, at any size: a root, a fan-out to n/10 chains of 8, a fan-in, then a
/// chain up to n jobs (bench/dag.ps1 builds the same shape for its comparison with make).
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
}
