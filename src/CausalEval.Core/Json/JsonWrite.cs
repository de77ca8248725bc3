using System.Text.Json;
using CausalEval.Core.Episodes;
using CausalEval.Core.Worlds;

namespace CausalEval.Core.Json;

/// <summary>The small shapes every file we write shares.</summary>
internal static class JsonWrite
{
    public static void WriteStringOrNull(this Utf8JsonWriter writer, JsonEncodedText name, string? value)
    {
        if (value is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, value);
        }
    }

    public static void WriteStringOrNull(this Utf8JsonWriter writer, string name, string? value)
    {
        if (value is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, value);
        }
    }

    public static void WriteNumberOrNull(this Utf8JsonWriter writer, string name, double? value)
    {
        if (value is { } v)
        {
            writer.WriteNumber(name, v);
        }
        else
        {
            writer.WriteNull(name);
        }
    }

    /// <summary><c>{"variable": …, "value": …}</c>, or null.</summary>
    public static void WriteIntervention(this Utf8JsonWriter writer, string name, Intervention? intervention)
    {
        if (intervention is not { } action)
        {
            writer.WriteNull(name);
            return;
        }
        writer.WriteStartObject(name);
        writer.WriteString("variable", action.Variable);
        writer.WriteNumber("value", action.Value);
        writer.WriteEndObject();
    }

    /// <summary><c>{"input_tokens", "output_tokens"}</c>, and with <paramref name="withCached"/> the cached counts too.</summary>
    public static void WriteUsage(this Utf8JsonWriter writer, string name, Usage usage, bool withCached = false)
        => writer.WriteUsage(JsonEncodedText.Encode(name), usage, withCached);

    public static void WriteUsage(this Utf8JsonWriter writer, JsonEncodedText name, Usage usage, bool withCached = false)
    {
        writer.WriteStartObject(name);
        writer.WriteNumber("input_tokens", usage.InputTokens);
        writer.WriteNumber("output_tokens", usage.OutputTokens);
        if (withCached)
        {
            writer.WriteNumber("cached_input_tokens", usage.CachedInputTokens);
            writer.WriteNumber("cached_output_tokens", usage.CachedOutputTokens);
        }
        // Only when the provider reported prompt-cache reads (writes), so lines of other models stay as they were.
        if (usage.PromptCacheTokens != 0)
        {
            writer.WriteNumber("prompt_cache_tokens", usage.PromptCacheTokens);
        }
        if (usage.PromptCacheWriteTokens != 0)
        {
            writer.WriteNumber("prompt_cache_write_tokens", usage.PromptCacheWriteTokens);
        }
        if (usage.UnmeteredAttempts != 0)
        {
            writer.WriteNumber("unmetered_attempts", usage.UnmeteredAttempts);
        }
        writer.WriteEndObject();
    }

    public static void WriteStrings(this Utf8JsonWriter writer, string name, IEnumerable<string?> items)
    {
        writer.WriteStartArray(name);
        foreach (var item in items)
        {
            if (item is null)
            {
                writer.WriteNullValue();
            }
            else
            {
                writer.WriteStringValue(item);
            }
        }
        writer.WriteEndArray();
    }
}
