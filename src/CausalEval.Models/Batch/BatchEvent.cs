using System.Text.Json.Serialization;

namespace CausalEval.Models.Batch;

/// <summary>
/// One line of <c>batches/state.jsonl</c> (System.Text.Json source generation, <see cref="Middleware.ModelsJsonContext"/>):
/// <c>event</c> first, then the event's fields.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "event")]
[JsonDerivedType(typeof(UploadedEvent), "uploaded")]
[JsonDerivedType(typeof(CreatedEvent), "created")]
[JsonDerivedType(typeof(EndedEvent), "ended")]
internal abstract record BatchEvent;

/// <summary>A request file uploaded: its file id and each request's <c>custom_id</c> → SHA-256 of its body.</summary>
internal sealed record UploadedEvent(string Model, string FileId, Dictionary<string, string> Requests) : BatchEvent;

/// <summary>A batch created from an uploaded file.</summary>
internal sealed record CreatedEvent(string Model, string FileId, string BatchId) : BatchEvent;

/// <summary>A batch ended: its status and output/error file ids (null when the provider gave none).</summary>
internal sealed record EndedEvent(string BatchId, string Status, string? OutputFileId, string? ErrorFileId, string? Errors) : BatchEvent;
