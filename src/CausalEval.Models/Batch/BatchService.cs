using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json;
using OpenAI.Batch;
using OpenAI.Files;

namespace CausalEval.Models.Batch;

/// <summary>A batch job as the provider reports it: its id, status and, once it has ended, its output and error files.</summary>
internal sealed record BatchJob(string Id, string Status, string? OutputFileId, string? ErrorFileId, string? Errors)
{
    /// <summary>The statuses after which a batch changes no more.</summary>
    public bool HasEnded => Status is "completed" or "failed" or "expired" or "cancelled";

    /// <summary>Reads the Batches API's batch object; what is missing or of the wrong type is a bad response.</summary>
    public static BatchJob Parse(BinaryData json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return Parse(document.RootElement);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"the batch object is not JSON: {ex.Message}", ex);
        }
    }

    /// <summary>Reads one batch object (of a batch or of a page of the batch list).</summary>
    public static BatchJob Parse(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException("the batch object is not an object");
        }
        string? Text(string name) => root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        string? errors = null;
        if (root.TryGetProperty("errors", out var list) && list.ValueKind == JsonValueKind.Object && list.TryGetProperty("data", out var data)
            && data.ValueKind == JsonValueKind.Array)
        {
            errors = string.Join("; ", data.EnumerateArray().Take(5).Select(e =>
                $"{(e.TryGetProperty("code", out var c) ? c.ToString() : "error")}: {(e.TryGetProperty("message", out var m) ? m.ToString() : "")}"));
        }
        return new BatchJob(Text("id") ?? throw new InvalidDataException("the batch object has no id"),
            Text("status") ?? throw new InvalidDataException("the batch object has no status"), Text("output_file_id"), Text("error_file_id"), errors)
        {
            InputFileId = Text("input_file_id"),
        };
    }

    /// <summary>The uploaded request file the batch runs (as the provider lists it; not kept in the state file).</summary>
    public string? InputFileId { get; init; }
}

/// <summary>The provider's Files and Batches APIs, as a batch round uses them.</summary>
internal interface IBatchService
{
    /// <summary>The <c>url</c> of each request line and the batch's <c>endpoint</c> (OpenAI <c>/v1/chat/completions</c>, Azure <c>/chat/completions</c>).</summary>
    string ChatEndpoint { get; }

    /// <summary>Uploads a JSONL request file (<c>purpose=batch</c>); returns its file id.</summary>
    Task<string> UploadAsync(string fileName, BinaryData jsonl, CancellationToken cancellationToken);

    /// <summary>Creates the batch of an uploaded file (24-hour window).</summary>
    Task<BatchJob> CreateAsync(string fileId, CancellationToken cancellationToken);

    /// <summary>The batch's current state.</summary>
    Task<BatchJob> GetAsync(string batchId, CancellationToken cancellationToken);

    /// <summary>
    /// The newest batch the provider lists for this input file, among its <see cref="OpenAiBatchService.MaxListed"/>
    /// newest batches; null when there is none. A resume asks before creating the batch of a file it uploaded, since the
    /// process may have died after the provider created that batch but before the state file recorded it.
    /// </summary>
    Task<BatchJob?> FindByInputFileAsync(string fileId, CancellationToken cancellationToken);

    /// <summary>An output or error file's content.</summary>
    Task<BinaryData> DownloadAsync(string fileId, CancellationToken cancellationToken);

    /// <summary>Asks the provider to cancel the batch.</summary>
    Task CancelAsync(string batchId, CancellationToken cancellationToken);
}

/// <summary>
/// OpenAI's and Azure OpenAI's Files and Batches APIs through the OpenAI SDK: <see cref="OpenAIFileClient"/> for the
/// upload and downloads, <see cref="BatchClient"/>'s protocol methods (create, and <see cref="CreateBatchOperation"/>
/// rehydrated from a batch id to poll and cancel, so a resumed run polls a batch it did not create in this process).
/// </summary>
#pragma warning disable OPENAI001 // the SDK marks its batch client experimental
internal sealed class OpenAiBatchService(OpenAIFileClient files, BatchClient batches, string chatEndpoint) : IBatchService
{
    public string ChatEndpoint => chatEndpoint;

    public async Task<string> UploadAsync(string fileName, BinaryData jsonl, CancellationToken cancellationToken)
    {
        var file = await files.UploadFileAsync(jsonl, fileName, FileUploadPurpose.Batch).WaitAsync(cancellationToken).ConfigureAwait(false);
        return file.Value.Id;
    }

    public async Task<BatchJob> CreateAsync(string fileId, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("input_file_id", fileId);
            writer.WriteString("endpoint", chatEndpoint);
            writer.WriteString("completion_window", "24h");
            writer.WriteEndObject();
        }
        var body = buffer.ToArray();
        var operation = await batches.CreateBatchAsync(BinaryContent.Create(BinaryData.FromBytes(body)), waitUntilCompleted: false,
            new RequestOptions { CancellationToken = cancellationToken }).ConfigureAwait(false);
        return BatchJob.Parse(operation.GetRawResponse().Content);
    }

    public async Task<BatchJob> GetAsync(string batchId, CancellationToken cancellationToken)
    {
        var operation = await CreateBatchOperation.RehydrateAsync(batches, batchId, cancellationToken).ConfigureAwait(false);
        return BatchJob.Parse(operation.GetRawResponse().Content);
    }

    /// <summary>Batches listed at most when looking for a file's batch (pages of 100): the search never runs unbounded.</summary>
    public const int MaxListed = 1_000;

    public async Task<BatchJob?> FindByInputFileAsync(string fileId, CancellationToken cancellationToken)
    {
        var listed = 0;
        var pages = batches.GetBatchesAsync(after: null, limit: 100, new RequestOptions { CancellationToken = cancellationToken });
        await foreach (var page in pages.GetRawPagesAsync().WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(page.GetRawResponse().Content);
            }
            catch (JsonException ex)
            {
                throw new InvalidDataException($"the batch list is not JSON: {ex.Message}", ex);
            }
            using (document)
            {
                if (!document.RootElement.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
                {
                    throw new InvalidDataException("the batch list has no data array");
                }
                var count = 0;
                foreach (var item in data.EnumerateArray())
                {
                    var job = BatchJob.Parse(item);
                    if (job.InputFileId == fileId)
                    {
                        return job; // newest first: a file's batch is created once, so the first match is it
                    }
                    count++;
                }
                listed += count;
                if (count == 0 || listed >= MaxListed)
                {
                    return null;
                }
            }
        }
        return null;
    }

    public async Task<BinaryData> DownloadAsync(string fileId, CancellationToken cancellationToken) =>
        (await files.DownloadFileAsync(fileId, cancellationToken).ConfigureAwait(false)).Value;

    public async Task CancelAsync(string batchId, CancellationToken cancellationToken)
    {
        var operation = await CreateBatchOperation.RehydrateAsync(batches, batchId, cancellationToken).ConfigureAwait(false);
        await operation.CancelAsync(new RequestOptions { CancellationToken = cancellationToken }).ConfigureAwait(false);
    }
}
#pragma warning restore OPENAI001
