using System.Text.Json;
using System.Text.Json.Serialization;

namespace CausalEval.Core.Inference;

/// <summary>
/// One line of a precomputed observer file (<c>observer-&lt;split&gt;.jsonl</c>): episode id, evidence hash, the summary's
/// variables, expected effects, information and log evidence, and its top hypotheses with edges as <c>[from, to, weight]</c>.
/// </summary>
internal sealed record ObserverLine(
    string Episode,
    string Evidence,
    IReadOnlyList<string?> Variables,
    IReadOnlyList<double> ExpectedEffects,
    IReadOnlyList<double> Information,
    double LogEvidence,
    IReadOnlyList<ObserverLine.TopHypothesis?> Top)
{
    internal sealed record TopHypothesis(double Probability, IReadOnlyList<EdgeTriple> Edges);

    /// <summary>An edge written compactly as a three-item array.</summary>
    [JsonConverter(typeof(Converter))]
    internal readonly record struct EdgeTriple(string From, string To, double Weight)
    {
        internal sealed class Converter : JsonConverter<EdgeTriple>
        {
            public override EdgeTriple Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
            {
                const string Shape = "expected an edge as [from, to, weight]";
                if (reader.TokenType != JsonTokenType.StartArray || !reader.Read() || reader.TokenType != JsonTokenType.String)
                {
                    throw new JsonException(Shape);
                }
                var from = reader.GetString()!;
                if (!reader.Read() || reader.TokenType != JsonTokenType.String)
                {
                    throw new JsonException(Shape);
                }
                var to = reader.GetString()!;
                if (!reader.Read() || reader.TokenType != JsonTokenType.Number || !reader.TryGetDouble(out var weight) || !double.IsFinite(weight)
                    || !reader.Read() || reader.TokenType != JsonTokenType.EndArray)
                {
                    throw new JsonException(Shape);
                }
                return new EdgeTriple(from, to, weight);
            }

            public override void Write(Utf8JsonWriter writer, EdgeTriple value, JsonSerializerOptions options)
            {
                writer.WriteStartArray();
                writer.WriteStringValue(value.From);
                writer.WriteStringValue(value.To);
                writer.WriteNumberValue(value.Weight);
                writer.WriteEndArray();
            }
        }
    }
}
