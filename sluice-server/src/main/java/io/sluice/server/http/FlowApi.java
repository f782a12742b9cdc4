package io.sluice.server.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.sluice.api.ErrorCode;
import io.sluice.api.Json;
import io.sluice.core.flow.Flow;
import io.sluice.server.flow.ServerFlows;

/**
 * Flows over HTTP: {@code GET /v1/flows} (every flow with its modules and queues) and {@code
 * GET /v1/flows/{name}}.
 */
public final class FlowApi {
    private final ServerFlows flows;

    public FlowApi(ServerFlows flows) {
        this.flows = flows;
    }

    public void register(Javalin app) {
        app.get("/v1/flows", ctx -> {
            ObjectNode o = Json.object();
            ArrayNode list = o.putArray("flows");
            for (Flow f : flows.flows()) {
                list.add(ServerFlows.describe(f));
            }
            HttpApi.json(ctx, o);
        });
        app.get("/v1/flows/{name}", ctx -> {
            String name = ctx.pathParam("name");
            Flow f = flows.flow(name)
                    .orElseThrow(() -> new ApiException(ErrorCode.NOT_FOUND, "no flow named '" + name + "'"));
            HttpApi.json(ctx, ServerFlows.describe(f));
        });
    }
}
