using AnalysisRunner.Core;
using AnalysisRunner.Core.Http;
using AnalysisRunner.Core.Storage;
using AnalysisRunner.Server.Authentication;
using AnalysisRunner.Server.Web;

namespace AnalysisRunner.Server.Endpoints;

/// <summary>
/// Listing and reading bucket objects for the token's user, with the rule the in-process storage
/// cmdlets use outside a run (<see cref="StorageAccess"/>): a member of a dataset at a level reads
/// that scope's buckets, anything else is refused with the same ErrorId before the store is touched.
/// Nothing here writes or deletes.
/// </summary>
internal static class StorageEndpoints
{
    public static void MapStorage(this IEndpointRouteBuilder app)
    {
        var storage = app.MapGroup("").WithTags("Storage")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        storage.MapGet(StorageRoutes.Items, (HttpContext context, RunnerHomeAccess home, string? path, string? delimiter,
                string? dataset, string? accessLevel, string? after, int? first) =>
            {
                var uri = StorageReads.ParseBucketPath(path);
                var recurse = StorageReads.Recurse(delimiter);
                var size = StorageReads.PageSize(first);
                return StorageReads.PageAsync(StoreFor(context, home, uri, dataset, accessLevel), uri, recurse, after, size, context.RequestAborted);
            })
            .Produces<StoragePage>()
            .WithName("GetStorageItems")
            .WithSummary("An object, or what is under a prefix (?delimiter=/ folds sub-prefixes), in path order, a page at a time (?after= is the nextCursor of the page before).");
        storage.MapGet(StorageRoutes.Content, async (HttpContext context, RunnerHomeAccess home, string? path, string? dataset, string? accessLevel) =>
            {
                var uri = StorageReads.ParseBucketPath(path);
                // Opened before the answer starts, so a refusal or a missing object is still a problem detail.
                var content = await StoreFor(context, home, uri, dataset, accessLevel).OpenReadAsync(uri, context.RequestAborted);
                return Results.Stream(content, "application/octet-stream");
            })
            .Produces(StatusCodes.Status200OK, contentType: "application/octet-stream")
            .WithName("GetStorageContent").WithSummary("An object's bytes.");
    }

    private static ScopedObjectStore StoreFor(HttpContext context, RunnerHomeAccess home, StorageUri uri, string? dataset, string? accessLevel) =>
        new StorageAccess(home.Deployment).For(uri, dataset, accessLevel is null ? null : AccessLevelNames.Parse(accessLevel),
            context.Caller().User, run: null);
}
