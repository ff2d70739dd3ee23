using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using AnalysisRunner.Core.Batch;

namespace AnalysisRunner.Core.Tests.TestSupport;

/// <summary>
/// build.ps1 -Task Test names the module's published executor (ReadyToRun, built from the same tree
/// in the same task) in AR_TEST_EXECUTOR: every executor the suite starts then runs precompiled
/// instead of compiling itself, which is about half of its start-up CPU. `dotnet test` alone keeps the
/// executor beside Core in this project's output.
/// </summary>
internal static class PublishedExecutor
{
    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255", Justification = "Chosen once for the whole test assembly, before any test starts an executor.")]
    internal static void Use()
    {
        if (Environment.GetEnvironmentVariable("AR_TEST_EXECUTOR") is { Length: > 0 } path)
            ExecutorClient.ExecutorPath = File.Exists(path)
                ? path
                : throw new FileNotFoundException($"AR_TEST_EXECUTOR names no executor: {path}", path);
    }
}
