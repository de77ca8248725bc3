using System.ClientModel;
using System.ClientModel.Primitives;
using Azure.AI.OpenAI;
using Azure.Identity;
using CausalEval.Core;
using CausalEval.Core.Agents;
using CausalEval.Prompts.Agents;
using CausalEval.Prompts.Templates;
using Microsoft.Extensions.AI;
using OllamaSharp;
using OpenAI;
using OpenAI.Chat;

namespace CausalEval.Models;

/// <summary>An environment variable a provider reads: its name, whether it must be set, and what it is for.</summary>
internal sealed record EnvironmentSetting(string Name, bool Required, string Purpose);

/// <summary>What <c>causaleval models</c> shows about a provider.</summary>
internal sealed record ProviderInfo(string Prefix, string Syntax, string Example, string Description, IReadOnlyList<EnvironmentSetting> Environment);

/// <summary>Where providers read their settings and send their requests (the real environment and network by default).</summary>
internal sealed record ProviderEnvironment(Func<string, string?> Variables, HttpClient? Http = null)
{
    public static ProviderEnvironment Process { get; } = new(Environment.GetEnvironmentVariable);

    public string? Get(string name) => Variables(name) is { Length: > 0 } value ? value : null;
}

/// <summary>
/// Model ids → Microsoft.Extensions.AI <see cref="IChatClient"/> pipelines (DESIGN §2.2). Each provider builds its SDK's
/// client once per model id (clients are thread-safe and shared by all trials), wraps it with a
/// <see cref="ChatClientBuilder"/> — the place for delegating middlewares such as caching and resilience — and hands it
/// to the LLM agent. Keys are read from the environment only and are never written anywhere.
/// </summary>
internal static class ChatProviders
{
    public const string OpenAiKey = "OPENAI_API_KEY";
    public const string OpenAiBaseUrl = "OPENAI_BASE_URL";
    public const string AzureEndpoint = "AZURE_OPENAI_ENDPOINT";
    public const string AzureKey = "AZURE_OPENAI_API_KEY";
    public const string OllamaHost = "OLLAMA_HOST";
    public const string CompatibleKey = "OPENAI_COMPATIBLE_API_KEY";
    public const string DefaultOllamaHost = "http://localhost:11434";

    /// <summary>Azure OpenAI REST version sent as <c>api-version</c> (latest GA with the deployments route).</summary>
    public const AzureOpenAIClientOptions.ServiceVersion AzureApiVersion = AzureOpenAIClientOptions.ServiceVersion.V2024_10_21;

    public static readonly IReadOnlyList<ProviderInfo> All =
    [
        new("openai", "openai/<model>[?settings]", "openai/gpt-4o-mini?temperature=0", "OpenAI chat completions (OpenAI SDK)",
            [new(OpenAiKey, true, "API key"), new(OpenAiBaseUrl, false, "another endpoint, e.g. a proxy (default https://api.openai.com/v1)")]),
        new("azure", "azure/<deployment>[?settings]", "azure/my-gpt-4o-deployment", "Azure OpenAI deployment (Azure.AI.OpenAI; api-version 2024-10-21)",
            [new(AzureEndpoint, true, "resource endpoint, https://<resource>.openai.azure.com"), new(AzureKey, false, "API key; unset: Entra ID (DefaultAzureCredential)")]),
        new("ollama", "ollama/<model>[?settings]", "ollama/llama3.2:3b", "a local Ollama server (OllamaSharp, /api/chat)",
            [new(OllamaHost, false, $"server address (default {DefaultOllamaHost})")]),
        new("openai-compatible", "openai-compatible/<model>@<base-url>[?settings]", "openai-compatible/qwen2.5-7b@http://localhost:8000/v1",
            "any OpenAI-compatible chat-completions server: vLLM, LM Studio, llama.cpp server, gateways",
            [new(CompatibleKey, false, "API key, when the server wants one")]),
    ];

    /// <summary>One <see cref="IModelProvider"/> per prefix, each making LLM agents over the same prompt folder and examples.</summary>
    public static IReadOnlyList<IModelProvider> Create(ProviderEnvironment environment, Func<LlmAgentSetup> setup, Action<ChatClientBuilder>? middleware = null) =>
    [
        new ChatModelProvider("openai", setup, (name, id) => Pipeline(OpenAi(name, id, environment), environment.Get(OpenAiKey), middleware)),
        new ChatModelProvider("azure", setup, (name, id) => Pipeline(Azure(name, id, environment), environment.Get(AzureKey), middleware)),
        new ChatModelProvider("ollama", setup, (name, id) => Pipeline(Ollama(name, id, environment), null, middleware)),
        new ChatModelProvider("openai-compatible", setup, (name, id) => Pipeline(Compatible(name, id, environment), environment.Get(CompatibleKey), middleware)),
    ];

    /// <summary>SDK client → key redaction → the caller's middlewares (outermost last).</summary>
    private static IChatClient Pipeline(IChatClient inner, string? key, Action<ChatClientBuilder>? middleware)
    {
        var builder = new ChatClientBuilder(key is null ? inner : new KeyRedaction(inner, key));
        middleware?.Invoke(builder);
        return builder.Build();
    }

    private static string Require(ProviderEnvironment environment, string variable, string modelId) =>
        environment.Get(variable) ?? throw new InputException("--model", modelId, $"{variable} is not set (see `causaleval models`)");

    private static Uri Url(string text, string what, string modelId) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? uri
            : throw new InputException("--model", modelId, $"{what} '{text}' is not an http(s) URL");

    private static IChatClient OpenAi(string model, string modelId, ProviderEnvironment environment)
    {
        var key = Require(environment, OpenAiKey, modelId);
        var options = Transport(new OpenAIClientOptions(), environment);
        if (environment.Get(OpenAiBaseUrl) is { } baseUrl)
        {
            options.Endpoint = Url(baseUrl, OpenAiBaseUrl, modelId);
        }
        return new ChatClient(model, new ApiKeyCredential(key), options).AsIChatClient();
    }

    private static IChatClient Azure(string deployment, string modelId, ProviderEnvironment environment)
    {
        var endpoint = Url(Require(environment, AzureEndpoint, modelId), AzureEndpoint, modelId);
        var options = Transport(new AzureOpenAIClientOptions(AzureApiVersion), environment);
        var client = environment.Get(AzureKey) is { } key
            ? new AzureOpenAIClient(endpoint, new ApiKeyCredential(key), options)
            : new AzureOpenAIClient(endpoint, new DefaultAzureCredential(), options);
        return client.GetChatClient(deployment).AsIChatClient();
    }

    private static IChatClient Ollama(string model, string modelId, ProviderEnvironment environment)
    {
        var host = environment.Get(OllamaHost) ?? DefaultOllamaHost;
        // OLLAMA_HOST is often written without a scheme (Ollama's own CLI accepts host:port).
        var uri = Url(host.Contains("://", StringComparison.Ordinal) ? host : "http://" + host, OllamaHost, modelId);
        var http = environment.Http ?? new HttpClient { Timeout = TimeSpan.FromMinutes(10) };
        http.BaseAddress ??= uri;
        // Streamed: a slow local model sends its first bytes at once instead of one response at the very end.
        return new StreamedResponses(new OllamaApiClient(http, model));
    }

    private static IChatClient Compatible(string rest, string modelId, ProviderEnvironment environment)
    {
        var at = rest.LastIndexOf('@');
        if (at <= 0 || at == rest.Length - 1)
        {
            throw new InputException("--model", modelId, "expected openai-compatible/<model>@<base-url>, e.g. openai-compatible/qwen2.5-7b@http://localhost:8000/v1");
        }
        var options = Transport(new OpenAIClientOptions { Endpoint = Url(rest[(at + 1)..], "base URL", modelId) }, environment);
        // The SDK needs some key; servers without authentication ignore it.
        var key = environment.Get(CompatibleKey) ?? "no-key";
        return new ChatClient(rest[..at], new ApiKeyCredential(key), options).AsIChatClient();
    }

    private static T Transport<T>(T options, ProviderEnvironment environment) where T : ClientPipelineOptions
    {
        if (environment.Http is { } http)
        {
            options.Transport = new HttpClientPipelineTransport(http);
        }
        return options;
    }
}

/// <summary>
/// Keeps the API key out of error messages (a trial's error message is written to trials.jsonl): a provider may echo
/// the key it was sent, e.g. in a 401 answer. The failure is re-thrown with the key replaced by "[redacted]".
/// </summary>
internal sealed class KeyRedaction(IChatClient inner, string key) : DelegatingChatClient(inner)
{
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<Microsoft.Extensions.AI.ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        try
        {
            return await base.GetResponseAsync(messages, options, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException && ex.ToString().Contains(key, StringComparison.Ordinal))
        {
            throw new ModelCallException($"{ex.GetType().Name}: {ex.Message.Replace(key, "[redacted]", StringComparison.Ordinal)}");
        }
    }

    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<Microsoft.Extensions.AI.ChatMessage> messages,
        ChatOptions? options = null, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var updates = base.GetStreamingResponseAsync(messages, options, cancellationToken).GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            try
            {
                if (!await updates.MoveNextAsync().ConfigureAwait(false))
                {
                    yield break;
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException && ex.ToString().Contains(key, StringComparison.Ordinal))
            {
                throw new ModelCallException($"{ex.GetType().Name}: {ex.Message.Replace(key, "[redacted]", StringComparison.Ordinal)}");
            }
            yield return updates.Current;
        }
    }
}

/// <summary>A model call failed; the message names the original exception type (and never holds the API key).</summary>
internal sealed class ModelCallException(string message) : Exception(message);

/// <summary>
/// Answers <see cref="IChatClient.GetResponseAsync"/> through the streaming call and joins the updates (text and the
/// usage the server reports at the end): for Ollama, whose /api/chat streams NDJSON.
/// </summary>
internal sealed class StreamedResponses(IChatClient inner) : DelegatingChatClient(inner)
{
    public override Task<ChatResponse> GetResponseAsync(IEnumerable<Microsoft.Extensions.AI.ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        => GetStreamingResponseAsync(messages, options, cancellationToken).ToChatResponseAsync(cancellationToken);
}

/// <summary>Model ids <c>&lt;prefix&gt;/&lt;name&gt;[?settings]</c> played by an LLM agent over a chat client.</summary>
internal sealed class ChatModelProvider(string prefix, Func<LlmAgentSetup> setup, Func<string, string, IChatClient> client) : IModelProvider
{
    private readonly Lazy<LlmAgentSetup> _setup = new(setup);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, AgentFactory> _resolved = new(StringComparer.Ordinal);

    public string Prefix => prefix;

    public bool TakesPrompts => true;

    /// <summary>One chat client per model id, however often the id is resolved.</summary>
    public AgentFactory Resolve(string name, string modelId)
    {
        if (_resolved.TryGetValue(modelId, out var known))
        {
            return known;
        }
        // The settings come off the id before the provider sees the name (the openai-compatible base URL has no query).
        var (model, settings) = ModelSpec.Parse(name, modelId);
        var chat = client(model, modelId);
        return _resolved.GetOrAdd(modelId, LlmAgent.Factory(chat, _setup.Value, settings));
    }
}
