using AnalysisRunner.Core.Batch;

namespace AnalysisRunner.Core.Runs.Channel;

/// <summary>
/// A batch as a job sends it over the run channel is JSON a hostile job wrote: it may hold null where the
/// spec's types say a value always is (a null job, commands = null, a null output). Those are refused
/// here, as RunChannelMessageInvalid naming where the null is, before any check or store reads the spec.
/// </summary>
internal static class RunChannelSpecShape
{
    public static void Check(BatchSpec spec)
    {
        Present(spec.Name, "the batch's name");
        Present(spec.TmpRoot, "the batch's tmpRoot");
        Strings(spec.Attributes, "the batch's attributes");
        foreach (var input in Present(spec.Inputs, "the batch's inputs"))
        {
            Present(input, "an input");
            if (input.Group is { } group) Strings(group, $"input {input.Index}'s group");
        }
        foreach (var job in Present(spec.Jobs, "the batch's jobs"))
        {
            Present(job, "a job");
            var where = $"job {job.Index + 1}";
            Present(job.Name, where + "'s name");
            foreach (var command in Present(job.Commands, where + "'s commands")) Present(command, where + "'s commands");
            Strings(job.Environment, where + "'s environment");
            Strings(job.Attributes, where + "'s attributes");
            Present(job.DependsOn, where + "'s dependsOn");
            foreach (var (name, members) in Present(job.ResourceGroups, where + "'s resourceGroups"))
                Strings(members, $"{where}'s resource group '{name}'");
            foreach (var output in Present(job.Outputs, where + "'s outputs"))
            {
                Present(output, where + "'s outputs");
                Present(output.Resource, where + "'s output resource");
                Present(output.Destination, where + "'s output destination");
            }
        }
    }

    private static void Strings(IReadOnlyDictionary<string, string> values, string where)
    {
        foreach (var (_, value) in Present(values, where)) Present(value, where);
    }

    private static T Present<T>(T? value, string where) where T : class =>
        value ?? throw RunChannelFrames.Invalid($"{where} holds null where a value must be");
}
