using System.Text.Json;
using System.Text.Json.Serialization;

namespace AnalysisRunner.Core.Batch;

/// <summary>
/// Serializers generated at compile time for what the batch tables store as JSON: the executor reads
/// a job's spec each time it starts one, and reflection-built serializers cost it more than the job's own shell.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(BatchSpec))]
[JsonSerializable(typeof(JobSpec))]
[JsonSerializable(typeof(int[]))]
[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class BatchJson : JsonSerializerContext
{
}
