namespace AnalysisRunner.Core.Batch;

/// <summary>
/// The client's handle on the executor of a runner home: after a submit or cancel is committed,
/// Wake tells the executor to look at the database, starting one (detached) if none is alive.
/// </summary>
public interface IExecutorClient
{
    void Wake();
}
