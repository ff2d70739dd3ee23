using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Policy;

namespace AnalysisRunner.PowerShell.Completers;

/// <summary>Completes -Dataset from the registry of the runner home in use.</summary>
public sealed class DatasetCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        IReadOnlyList<string> names;
        try
        {
            var home = RunnerHome.Resolve(fakeBoundParameters["RunnerHome"] as string);
            names = File.Exists(home.RegistryPath) ? DatasetRegistry.Load(home.RegistryPath).DatasetNames : [];
        }
        catch (Exception)
        {
            // A completer must never throw into the user's prompt; a broken registry shows up on submit.
            names = [];
        }
        return names
            .Where(name => name.StartsWith(wordToComplete.Trim('\'', '"'), StringComparison.OrdinalIgnoreCase))
            .Select(name => new CompletionResult(name, name, CompletionResultType.ParameterValue, name));
    }
}
