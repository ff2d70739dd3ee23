using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Policy;
using AnalysisRunner.Core.Storage;

namespace AnalysisRunner.PowerShell.Completers;

/// <summary>Completes gs://bucket/ for the buckets of the datasets the user is a member of (registry of the runner home in use).</summary>
public sealed class BucketCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var word = wordToComplete.Trim('\'', '"');
        if (word.Length > 0 && !"gs://".StartsWith(word, StringComparison.OrdinalIgnoreCase) && !word.StartsWith("gs://", StringComparison.OrdinalIgnoreCase))
            return [];
        IEnumerable<string> buckets;
        try
        {
            var home = RunnerHome.Resolve(fakeBoundParameters["RunnerHome"] as string);
            buckets = File.Exists(home.RegistryPath)
                ? StorageAccess.BucketNamesFor(DatasetRegistry.Load(home.RegistryPath), Identity.OfOsAccount(RunnerSettings.Load(home))).ToList()
                : [];
        }
        catch (Exception)
        {
            // A completer must never throw into the user's prompt.
            buckets = [];
        }
        return buckets
            .Select(bucket => $"gs://{bucket}/")
            .Where(uri => uri.StartsWith(word, StringComparison.OrdinalIgnoreCase))
            .Select(uri => new CompletionResult(uri, uri, CompletionResultType.ParameterValue, uri));
    }
}
