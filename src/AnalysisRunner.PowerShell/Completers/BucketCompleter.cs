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
                ? StorageAccess.BucketNamesFor(DatasetRegistry.Load(home.RegistryPath), Identity.Current(CurrentLocation())).ToList()
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

    /// <summary>The prompt's location (who the user is comes from its git checkout), not the process's.</summary>
    private static string CurrentLocation()
    {
        try
        {
            // A nested pipeline in the prompt's runspace: its session state is busy running the completion.
            using var shell = System.Management.Automation.PowerShell.Create(RunspaceMode.CurrentRunspace);
            var location = shell.AddCommand("Microsoft.PowerShell.Management\\Get-Location").Invoke<PathInfo>().FirstOrDefault();
            if (location?.Provider.Name == "FileSystem") return location.ProviderPath;
        }
        catch (Exception)
        {
            // fall back to the process's directory
        }
        return Environment.CurrentDirectory;
    }
}
