using System.Text.Json.Serialization;
using CausalEval.Core.Worlds;

namespace CausalEval.Core.Json;

/// <summary>
/// Core's JSON files (world files, ...), serialized by source-generated code: snake_case names, unknown fields
/// rejected, constructor parameters without a default required, nullable annotations respected. The streaming
/// <c>trials.jsonl</c> writer and reader stay hand-written (<see cref="Results.TrialJson"/>, <see cref="Results.TrialLog"/>)
/// for speed. Read through <see cref="JsonInput"/>, which words the serializer's errors as bad input.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true,
    Converters = [typeof(JsonInput.FiniteDoubleConverter)])]
[JsonSerializable(typeof(WorldFile))]
[JsonSerializable(typeof(Tasks.EpisodeLine))]
[JsonSerializable(typeof(Tasks.TaskFile))]
[JsonSerializable(typeof(OddOneOut.OddOneOutLine))]
[JsonSerializable(typeof(Results.RunManifestFile))]
[JsonSerializable(typeof(Inference.EvidenceInput))]
[JsonSerializable(typeof(Inference.InferOutput))]
[JsonSerializable(typeof(Inference.ObserverLine))]
[JsonSerializable(typeof(Oracle.SolutionOutput))]
internal sealed partial class CoreJsonContext : JsonSerializerContext;
