using System.Net;
using System.Text;
using System.Text.Json;
using AnalysisRunner.Core.Client;
using AnalysisRunner.Core.Http;
using AnalysisRunner.Core.Tests.TestSupport;

namespace AnalysisRunner.Core.Tests.Client;

[Collection(PostgresClientCollection.Name)]
public sealed class ProblemDocumentTests
{
    [Theory]
    [InlineData(ErrorKind.InvalidArgument, 400)]
    [InlineData(ErrorKind.InvalidData, 400)]
    [InlineData(ErrorKind.AuthenticationError, 401)]
    [InlineData(ErrorKind.PermissionDenied, 403)]
    [InlineData(ErrorKind.ObjectNotFound, 404)]
    [InlineData(ErrorKind.InvalidOperation, 409)]
    [InlineData(ErrorKind.LimitsExceeded, 413)]
    [InlineData(ErrorKind.ResourceUnavailable, 503)]
    [InlineData(ErrorKind.OperationTimeout, 504)]
    [InlineData(ErrorKind.NotSpecified, 500)]
    public void Each_kind_has_one_status(ErrorKind kind, int status) => Assert.Equal(status, ErrorStatus.ToStatus(kind));

    [Fact]
    public void Every_kind_but_NotSpecified_is_a_client_or_availability_status_and_reads_back_from_it()
    {
        foreach (var kind in Enum.GetValues<ErrorKind>().Where(k => k is not (ErrorKind.NotSpecified or ErrorKind.InvalidData or ErrorKind.OperationStopped or ErrorKind.InvalidResult)))
            Assert.Equal(kind, ErrorStatus.FromStatus(ErrorStatus.ToStatus(kind)));
        Assert.NotEqual(500, ErrorStatus.ToStatus(ErrorKind.OperationStopped));
        Assert.NotEqual(500, ErrorStatus.ToStatus(ErrorKind.InvalidResult));
    }

    [Theory]
    [InlineData("gs://cpg-x-main/a")]
    [InlineData(null)]
    public void A_problem_carries_ErrorId_kind_message_and_target_through_JSON(object? target)
    {
        var original = new StorageException("BucketNotAllowed", ErrorKind.PermissionDenied, target, "Not your bucket.");

        var json = JsonSerializer.Serialize(ProblemDocument.From(original, "/api/v1/x"), ApiJson.Options);
        var back = JsonSerializer.Deserialize<ProblemDocument>(json, ApiJson.Options)!.ToException(403);

        Assert.Equal((original.ErrorId, original.Kind, original.Target, original.Message), (back.ErrorId, back.Kind, back.Target, back.Message));
        Assert.Equal(403, back.Status);
        Assert.Equal("/api/v1/x", back.Problem.Instance);
    }

    [Fact]
    public void A_number_target_comes_back_as_a_long()
    {
        var original = new AnalysisRunnerException("BatchNotFound", ErrorKind.ObjectNotFound, 42L, "No batch 42.");
        var json = JsonSerializer.Serialize(ProblemDocument.From(original), ApiJson.Options);
        Assert.Equal(42L, JsonSerializer.Deserialize<ProblemDocument>(json, ApiJson.Options)!.ToException(404).Target);
    }

    [Fact]
    public void A_list_target_comes_back_as_a_list_of_its_texts()
    {
        var original = new AnalysisRunnerException("WaitTimedOut", ErrorKind.OperationTimeout, new List<long> { 3, 4 }, "Timed out.");
        var json = JsonSerializer.Serialize(ProblemDocument.From(original), ApiJson.Options);
        Assert.Equal(new object?[] { "3", "4" }, (object?[])JsonSerializer.Deserialize<ProblemDocument>(json, ApiJson.Options)!.ToException(504).Target!);
    }

    [Fact]
    public async Task An_answer_that_is_not_our_problem_gets_its_kind_from_the_status()
    {
        using var proxy = new HttpResponseMessage(HttpStatusCode.BadGateway)
        {
            ReasonPhrase = "Bad Gateway",
            Content = new StringContent("<html>upstream down</html>", Encoding.UTF8, "text/html"),
        };
        var error = await RunnerHttpClient.ToExceptionAsync(proxy, CancellationToken.None);
        Assert.Equal(("ServerError502", ErrorKind.ResourceUnavailable), (error.ErrorId, error.Kind));
        Assert.Contains("upstream down", error.Message);

        using var foreign = new HttpResponseMessage(HttpStatusCode.Forbidden)
        {
            Content = new StringContent("""{"type":"about:blank","title":"Forbidden","status":403,"errorId":"","kind":"Nonsense"}""", Encoding.UTF8, ProblemDocument.MediaType),
        };
        var forbidden = await RunnerHttpClient.ToExceptionAsync(foreign, CancellationToken.None);
        Assert.Equal(("ServerError403", ErrorKind.PermissionDenied, "Forbidden"), (forbidden.ErrorId, forbidden.Kind, forbidden.Message));
    }
}
