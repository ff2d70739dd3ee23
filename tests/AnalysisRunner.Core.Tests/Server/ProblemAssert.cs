using System.Text.Json;
using AnalysisRunner.Core.Http;

namespace AnalysisRunner.Core.Tests.Server;

internal static class ProblemAssert
{
    /// <summary>Asserts an RFC 7807 answer with our members, and returns it.</summary>
    public static async Task<JsonElement> IsProblemAsync(HttpResponseMessage response, int status, string errorId, ErrorKind kind)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == (int)response.StatusCode, $"expected {status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal(ProblemDocument.MediaType, response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement;
        Assert.Equal(status, problem.GetProperty("status").GetInt32());
        Assert.Equal(errorId, problem.GetProperty("errorId").GetString());
        Assert.Equal(kind.ToString(), problem.GetProperty("kind").GetString());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("title").GetString()));
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("type").GetString()));
        return problem;
    }
}
