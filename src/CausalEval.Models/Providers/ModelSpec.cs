using System.Globalization;
using CausalEval.Core;
using CausalEval.Core.Agents;

namespace CausalEval.Models.Providers;

/// <summary>
/// The part of a model id after <c>&lt;provider&gt;/</c>: the model name, then optional settings as a query string —
/// <c>openai/gpt-4o-mini?temperature=0.2&amp;max_tokens=512&amp;seed=7</c>. Keys: <c>temperature</c> (default 0),
/// <c>max_tokens</c> (default: the prompt template's), <c>seed</c> (default: one derived from each trial); the value
/// <c>none</c> sends nothing for that setting, leaving the provider's default.
/// </summary>
public static class ModelSpec
{
    /// <summary>The settings a model id may carry.</summary>
    public static readonly IReadOnlyList<string> Keys = ["temperature", "max_tokens", "seed"];

    /// <summary>Splits <c>name?key=value&amp;…</c> into the name and its settings; bad settings are bad input naming <paramref name="modelId"/>.</summary>
    public static (string Name, ModelSettings Settings) Parse(string rest, string modelId)
    {
        var question = rest.IndexOf('?');
        var name = question < 0 ? rest : rest[..question];
        if (name.Length == 0)
        {
            throw new InputException("--model", modelId, "the model name is missing");
        }
        var settings = ModelSettings.Default;
        if (question < 0)
        {
            return (name, settings);
        }
        foreach (var pair in rest[(question + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=');
            var key = eq < 0 ? pair : pair[..eq];
            var value = eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..]);
            var none = value == "none";
            settings = key switch
            {
                "temperature" => settings with { Temperature = none ? null : Number(value, key, modelId, 0, 2) },
                "max_tokens" => settings with { MaxOutputTokens = none ? null : (int)Integer(value, key, modelId, 1, int.MaxValue) },
                "seed" => none
                    ? settings with { Seed = null, SeedFromTrial = false }
                    : settings with { Seed = Integer(value, key, modelId, long.MinValue, long.MaxValue) },
                _ => throw new InputException("--model", modelId, $"unknown setting '{key}' (known: {string.Join(", ", Keys)})"),
            };
        }
        return (name, settings);
    }

    private static double Number(string text, string key, string modelId, double min, double max) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw new InputException("--model", modelId, $"{key}: '{text}' is not a number in [{min}, {max}] (or none)");

    private static long Integer(string text, string key, string modelId, long min, long max) =>
        long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw new InputException("--model", modelId, $"{key}: '{text}' is not a whole number{(min > 0 ? $" ≥ {min}" : "")} (or none)");
}
