using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Chat;

namespace CausalEval.Models.Providers;

/// <summary>
/// A hosted service reached through its OpenAI-compatible chat-completions endpoint: <c>&lt;prefix&gt;/&lt;model&gt;</c>
/// with the key in <c>&lt;PREFIX&gt;_API_KEY</c> and the endpoint in <c>&lt;PREFIX&gt;_BASE_URL</c> (default
/// <see cref="DefaultBaseUrl"/>). <see cref="Renames"/> are the request fields the service does not take under the name the
/// OpenAI SDK sends them: each is sent under its new name, or not at all when the new name is null.
/// </summary>
internal sealed record ServicePreset(string Prefix, string Service, string DefaultBaseUrl, string Example, IReadOnlyDictionary<string, string?> Renames)
{
    public string KeyVariable => $"{Variable}_API_KEY";

    public string BaseUrlVariable => $"{Variable}_BASE_URL";

    private string Variable => Prefix.ToUpperInvariant();

    public ProviderInfo Info => new(Prefix, $"{Prefix}/<model>[?settings]", Example,
        $"{Service} (OpenAI-compatible chat completions{(Renames.Count > 0 ? "; " + string.Join(", ", Renames.Select(r => r.Value is null ? $"no {r.Key}" : $"{r.Key} sent as {r.Value}")) : "")})",
        [new(KeyVariable, true, "API key"), new(BaseUrlVariable, false, $"another endpoint (default {DefaultBaseUrl})")]);
}

public static partial class ChatProviders
{
    /// <summary>
    /// The OpenAI SDK sends the answer cap as <c>max_completion_tokens</c>, OpenAI's newer name; these services document
    /// <c>max_tokens</c> (some ignore the newer name, so the cap would silently not apply), so it goes under that name.
    /// </summary>
    private static Dictionary<string, string?> MaxTokensByOldName => new() { ["max_completion_tokens"] = "max_tokens" };

    /// <summary>The presets (DESIGN §2.2), each a property read when the provider table is built (see <see cref="AnthropicInfo"/>).</summary>
    internal static IReadOnlyList<ServicePreset> Presets =>
    [
        new("gemini", "Google Gemini API", "https://generativelanguage.googleapis.com/v1beta/openai/", "gemini/gemini-2.5-flash", MaxTokensByOldName),
        new("openrouter", "OpenRouter gateway", "https://openrouter.ai/api/v1", "openrouter/meta-llama/llama-3.3-70b-instruct", MaxTokensByOldName),
        // Groq documents max_completion_tokens, as the SDK sends it.
        new("groq", "Groq", "https://api.groq.com/openai/v1", "groq/llama-3.3-70b-versatile", new Dictionary<string, string?>()),
        new("together", "Together AI", "https://api.together.xyz/v1", "together/meta-llama/Llama-3.3-70B-Instruct-Turbo", MaxTokensByOldName),
        new("deepseek", "DeepSeek", "https://api.deepseek.com/v1", "deepseek/deepseek-chat", MaxTokensByOldName),
        // Mistral's API calls the seed random_seed.
        new("mistral", "Mistral AI", "https://api.mistral.ai/v1", "mistral/mistral-small-latest",
            new Dictionary<string, string?>(MaxTokensByOldName) { ["seed"] = "random_seed" }),
    ];

    private static (IChatClient, string) Preset(ServicePreset preset, string model, string modelId, ProviderEnvironment environment)
    {
        var key = Require(environment, preset.KeyVariable, modelId);
        var options = Transport(new OpenAIClientOptions
        {
            Endpoint = Url(environment.Get(preset.BaseUrlVariable) ?? preset.DefaultBaseUrl, preset.BaseUrlVariable, modelId),
        }, environment);
        if (preset.Renames.Count > 0)
        {
            options.AddPolicy(new RenameRequestFields(preset.Renames), PipelinePosition.PerCall);
        }
        return (new ChatClient(model, new ApiKeyCredential(key), options).AsIChatClient(), options.Endpoint!.ToString());
    }
}

/// <summary>Renames (or drops) top-level fields of a JSON request body before it is sent: a service's own names for settings.</summary>
internal sealed class RenameRequestFields(IReadOnlyDictionary<string, string?> renames) : PipelinePolicy
{
    public override void Process(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
    {
        Rewrite(message);
        ProcessNext(message, pipeline, currentIndex);
    }

    public override async ValueTask ProcessAsync(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
    {
        Rewrite(message);
        await ProcessNextAsync(message, pipeline, currentIndex).ConfigureAwait(false);
    }

    private void Rewrite(PipelineMessage message)
    {
        if (message.Request.Content is not { } content)
        {
            return;
        }
        using var buffer = new MemoryStream();
        content.WriteTo(buffer);
        if (JsonNode.Parse(buffer.ToArray()) is not JsonObject body || !renames.Keys.Any(body.ContainsKey))
        {
            return;
        }
        foreach (var (from, to) in renames)
        {
            if (body[from] is { } value)
            {
                body.Remove(from);
                if (to is not null)
                {
                    body[to] = value;
                }
            }
        }
        message.Request.Content = BinaryContent.Create(BinaryData.FromString(body.ToJsonString()));
    }
}
