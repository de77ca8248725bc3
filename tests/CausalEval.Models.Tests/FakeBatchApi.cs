using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using WireMock;
using WireMock.Matchers;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Settings;
using WireMock.Types;
using WireMock.Util;

namespace CausalEval.Models.Tests;

/// <summary>
/// OpenAI's Files and Batches APIs on a WireMock.Net server, with the real wire format: <c>POST /v1/files</c> (multipart,
/// <c>purpose=batch</c>), <c>POST /v1/batches</c>, <c>GET /v1/batches/{id}</c> (each poll moves a batch on: validating →
/// in_progress → completed, or it stays in progress while <see cref="Hold"/> is set), <c>GET /v1/files/{id}/content</c>
/// (the output file, and an error file for requests <see cref="Answer"/> fails) and <c>POST /v1/batches/{id}/cancel</c>.
/// </summary>
internal sealed class FakeBatchApi : IDisposable
{
    private readonly object _gate = new();
    private readonly Dictionary<string, byte[]> _files = [];
    private readonly Dictionary<string, Job> _batches = [];

    /// <param name="prefix">The APIs' path: <c>/v1</c> (OpenAI) or <c>/openai</c> (Azure OpenAI, with <c>api-version</c>).</param>
    public FakeBatchApi(string prefix = "/v1")
    {
        Server = WireMockServer.Start(new WireMockServerSettings { Urls = [$"http://127.0.0.1:{ScriptedServer.FreePort()}"] });
        Server.Given(Request.Create().WithPath(prefix + "/files").UsingPost()).RespondWith(Response.Create().WithCallback(Upload));
        Server.Given(Request.Create().WithPath(prefix + "/batches").UsingPost()).RespondWith(Response.Create().WithCallback(Create));
        Server.Given(Request.Create().WithPath(new RegexMatcher("^" + prefix + "/batches/[^/]+$")).UsingGet()).RespondWith(Response.Create().WithCallback(Poll));
        Server.Given(Request.Create().WithPath(prefix + "/batches").UsingGet()).RespondWith(Response.Create().WithCallback(List));
        Server.Given(Request.Create().WithPath(new RegexMatcher("^" + prefix + "/batches/[^/]+/cancel$")).UsingPost()).RespondWith(Response.Create().WithCallback(Cancel));
        Server.Given(Request.Create().WithPath(new RegexMatcher("^" + prefix + "/files/[^/]+/content$")).UsingGet()).RespondWith(Response.Create().WithCallback(Content));
    }

    public WireMockServer Server { get; }

    public string BaseUrl => Server.Url + "/v1";

    /// <summary>Answers one request line's body: HTTP status and response body (default: a completion with a valid action).</summary>
    public Func<string, JsonNode, (int Status, string Body)> Answer { get; set; } = (_, _) => (200, ScriptedServer.Completion("ACTION: do(A = 5)"));

    /// <summary>While true, batches stay in progress.</summary>
    public volatile bool Hold;

    /// <summary>Batches end as expired (after one in-progress poll) instead of completed; their requests go to the error file.</summary>
    public volatile bool Expire;

    public List<string> Purposes { get; } = [];

    /// <summary>The clock polls are timed on (the run's fake clock), and when each poll arrived on it.</summary>
    public Func<DateTimeOffset>? Now { get; set; }
    public List<DateTimeOffset> PollTimes { get; } = [];

    /// <summary>Each Files/Batches request's path and query, as it arrived.</summary>
    public List<string> Urls => [.. Server.LogEntries.Select(e => e.RequestMessage.Path + (e.RequestMessage.Query is { Count: > 0 } q ? "?" + string.Join("&", q.Select(p => $"{p.Key}={p.Value}")) : ""))];
    public List<string> Endpoints { get; } = [];
    public List<string> Statuses { get; } = [];

    /// <summary>Each uploaded request file's lines.</summary>
    public List<List<JsonNode>> Uploads { get; } = [];

    public int Creates { get; private set; }
    public int Cancels { get; private set; }

    private IResponseMessage Upload(IRequestMessage request)
    {
        var contentType = request.Headers!["Content-Type"].First();
        var boundary = "--" + contentType[(contentType.IndexOf("boundary=", StringComparison.Ordinal) + 9)..].Trim('"');
        var body = Encoding.UTF8.GetString(request.BodyAsBytes!);
        string? purpose = null, file = null;
        foreach (var part in body.Split(boundary))
        {
            var split = part.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (split < 0)
            {
                continue;
            }
            var headers = part[..split];
            var value = part[(split + 4)..].TrimEnd('\r', '\n');
            if (headers.Contains("name=purpose", StringComparison.Ordinal) || headers.Contains("name=\"purpose\"", StringComparison.Ordinal))
            {
                purpose = value;
            }
            else if (headers.Contains("filename", StringComparison.Ordinal))
            {
                file = value;
            }
        }
        lock (_gate)
        {
            Purposes.Add(purpose ?? "");
            var id = $"file-in-{_files.Count + 1}";
            _files[id] = Encoding.UTF8.GetBytes(file ?? "");
            Uploads.Add([.. (file ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!)]);
            return Json(200, new JsonObject { ["id"] = id, ["object"] = "file", ["bytes"] = _files[id].Length, ["created_at"] = 1_700_000_000, ["filename"] = "input.jsonl", ["purpose"] = purpose, ["status"] = "processed" });
        }
    }

    private IResponseMessage Create(IRequestMessage request)
    {
        var body = JsonNode.Parse(request.Body!)!;
        lock (_gate)
        {
            Creates++;
            Endpoints.Add((string)body["endpoint"]!);
            var id = $"batch_{_batches.Count + 1}";
            _batches[id] = new Job(id, (string)body["input_file_id"]!);
            return Json(200, _batches[id].ToJson());
        }
    }

    private IResponseMessage Poll(IRequestMessage request)
    {
        var id = request.Path.Split('/').Last();
        lock (_gate)
        {
            if (!_batches.TryGetValue(id, out var job))
            {
                return Json(404, new JsonObject { ["error"] = new JsonObject { ["message"] = "no such batch", ["type"] = "invalid_request_error" } });
            }
            job.Status = job.Status switch
            {
                "validating" => "in_progress",
                "in_progress" when Hold => "in_progress",
                "in_progress" => Finish(job, Expire ? "expired" : "completed"),
                var other => other,
            };
            Statuses.Add(job.Status);
            if (Now is { } now)
            {
                PollTimes.Add(now());
            }
            return Json(200, job.ToJson());
        }
    }

    /// <summary><c>GET /v1/batches?limit=&amp;after=</c>: newest first, a page at a time (the <see cref="Unrelated"/> batches first).</summary>
    private IResponseMessage List(IRequestMessage request)
    {
        var limit = request.Query?.TryGetValue("limit", out var l) == true ? int.Parse(l[0], CultureInfo.InvariantCulture) : 20;
        var after = request.Query?.TryGetValue("after", out var a) == true ? a[0] : null;
        lock (_gate)
        {
            ListCalls++;
            var all = _batches.Values.Select(j => j.ToJson())
                .Concat(Enumerable.Range(1, Unrelated).Select(i => new Job($"batch_other_{i}", $"file-other-{i}").ToJson()))
                .Reverse().ToList();
            var start = after is null ? 0 : all.FindIndex(j => (string?)j["id"] == after) + 1;
            var page = all.Skip(start).Take(limit).ToList();
            return Json(200, new JsonObject
            {
                ["object"] = "list",
                ["data"] = new JsonArray([.. page]),
                ["first_id"] = page.FirstOrDefault()?["id"]?.DeepClone(),
                ["last_id"] = page.LastOrDefault()?["id"]?.DeepClone(),
                ["has_more"] = start + page.Count < all.Count,
            });
        }
    }

    /// <summary>Batches of other files, newer than this run's (another program's): the list shows them first.</summary>
    public int Unrelated { get; set; }

    public int ListCalls { get; private set; }

    /// <summary>Drops a batch, as if its create had never reached the provider.</summary>
    public void Forget(string id)
    {
        lock (_gate)
        {
            _batches.Remove(id);
        }
    }

    private IResponseMessage Cancel(IRequestMessage request)
    {
        var id = request.Path.Split('/')[^2];
        lock (_gate)
        {
            Cancels++;
            var job = _batches[id];
            job.Status = "cancelling";
            return Json(200, job.ToJson());
        }
    }

    private string Finish(Job job, string status)
    {
        var output = new StringBuilder();
        var errors = new StringBuilder();
        foreach (var line in Encoding.UTF8.GetString(_files[job.InputFileId]).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var request = JsonNode.Parse(line)!;
            var customId = (string)request["custom_id"]!;
            if (status == "expired")
            {
                errors.Append(new JsonObject
                {
                    ["id"] = "batch_req_" + customId, ["custom_id"] = customId, ["response"] = null,
                    ["error"] = new JsonObject { ["code"] = "batch_expired", ["message"] = "This request could not be executed before the completion window expired." },
                }.ToJsonString()).Append('\n');
                continue;
            }
            var (code, body) = Answer(customId, request["body"]!);
            var entry = new JsonObject
            {
                ["id"] = "batch_req_" + customId, ["custom_id"] = customId,
                ["response"] = new JsonObject { ["status_code"] = code, ["request_id"] = "req_" + customId, ["body"] = JsonNode.Parse(body) },
                ["error"] = null,
            }.ToJsonString();
            (code == 200 ? output : errors).Append(entry).Append('\n');
        }
        if (output.Length > 0)
        {
            job.OutputFileId = $"file-out-{job.Id}";
            _files[job.OutputFileId] = Encoding.UTF8.GetBytes(output.ToString());
        }
        if (errors.Length > 0)
        {
            job.ErrorFileId = $"file-err-{job.Id}";
            _files[job.ErrorFileId] = Encoding.UTF8.GetBytes(errors.ToString());
        }
        return status;
    }

    private IResponseMessage Content(IRequestMessage request)
    {
        var id = request.Path.Split('/')[^2];
        lock (_gate)
        {
            return new ResponseMessage
            {
                StatusCode = 200,
                Headers = new Dictionary<string, WireMockList<string>> { ["Content-Type"] = new("application/octet-stream") },
                BodyData = new BodyData { DetectedBodyType = BodyType.Bytes, BodyAsBytes = _files[id] },
            };
        }
    }

    private static ResponseMessage Json(int status, JsonNode body) => new()
    {
        StatusCode = status,
        Headers = new Dictionary<string, WireMockList<string>> { ["Content-Type"] = new("application/json") },
        BodyData = new BodyData { DetectedBodyType = BodyType.String, BodyAsString = body.ToJsonString(), Encoding = Encoding.UTF8 },
    };

    public void Dispose() => Server.Stop();

    private sealed class Job(string id, string inputFileId)
    {
        public string Id { get; } = id;
        public string InputFileId { get; } = inputFileId;
        public string Status { get; set; } = "validating";
        public string? OutputFileId { get; set; }
        public string? ErrorFileId { get; set; }

        public JsonObject ToJson() => new()
        {
            ["id"] = Id, ["object"] = "batch", ["endpoint"] = "/v1/chat/completions", ["input_file_id"] = InputFileId, ["completion_window"] = "24h",
            ["status"] = Status, ["output_file_id"] = OutputFileId, ["error_file_id"] = ErrorFileId, ["created_at"] = 1_700_000_000,
            ["errors"] = null, ["request_counts"] = new JsonObject { ["total"] = 0, ["completed"] = 0, ["failed"] = 0 },
        };
    }
}
