// GET /api/v1/openapi.json: Herald's HTTP API as an OpenAPI 3.1 document.
// Kept beside the code it describes; OpenApiTest (tests/integration)
// checks it against the running server: every documented operation is
// routed, every route is documented, and real replies match the schemas.
// docs/api.md is the same reference for people, with examples.
#include "api/openapi_document.h"

namespace herald::api {

const std::string_view kOpenApiDocument = R"json({
  "openapi": "3.1.0",
  "info": {
    "title": "Herald",
    "version": "v1",
    "summary": "A real-time progress hub for long-running jobs: workers report progress, browsers watch it over Server-Sent Events.",
    "description": "The full reference with examples is docs/api.md in the repository. Failures are JSON `{\"error\": \"...\"}` with the status codes below (and 405 with an `Allow` header for a method a path does not take); nothing fails with an opened stream.",
    "license": {
      "name": "See the repository"
    }
  },
  "servers": [
    {
      "url": "/"
    }
  ],
  "security": [
    {
      "bearer": []
    },
    {
      "cookie": []
    }
  ],
  "paths": {
    "/api/v1/audits": {
      "get": {
        "operationId": "list_audits",
        "summary": "The caller's audits, newest first",
        "description": "A `user` sees its own; `admin` and `worker` see all and may filter by `owner`.",
        "parameters": [
          {
            "name": "limit",
            "in": "query",
            "schema": {
              "type": "integer",
              "minimum": 1,
              "maximum": 500,
              "default": 50
            }
          },
          {
            "name": "offset",
            "in": "query",
            "schema": {
              "type": "integer",
              "minimum": 0,
              "default": 0
            }
          },
          {
            "name": "q",
            "in": "query",
            "description": "Case-insensitive substring of the url, title or type, or the id.",
            "schema": {
              "type": "string",
              "maxLength": 200
            }
          },
          {
            "name": "status",
            "in": "query",
            "schema": {
              "$ref": "#/components/schemas/Status"
            }
          },
          {
            "name": "owner",
            "in": "query",
            "description": "`admin`/`worker` only: one owner's jobs.",
            "schema": {
              "type": "string"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "One page.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "required": [
                    "items",
                    "limit",
                    "offset",
                    "has_more"
                  ],
                  "properties": {
                    "items": {
                      "type": "array",
                      "items": {
                        "$ref": "#/components/schemas/Audit"
                      }
                    },
                    "limit": {
                      "type": "integer"
                    },
                    "offset": {
                      "type": "integer"
                    },
                    "has_more": {
                      "type": "boolean",
                      "description": "Whether a next page exists."
                    }
                  }
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/E400"
          },
          "401": {
            "$ref": "#/components/responses/E401"
          },
          "429": {
            "$ref": "#/components/responses/E429"
          },
          "503": {
            "$ref": "#/components/responses/E503"
          }
        }
      },
      "post": {
        "operationId": "create_audit",
        "summary": "Start an audit of a website",
        "description": "Herald runs it (in-process workers or `herald worker`). A URL that resolves to a loopback or private address is refused unless `AUDIT_ALLOW_PRIVATE=1`; a host that does not resolve is accepted and the audit fails with a DNS error.",
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "type": "object",
                "required": [
                  "url"
                ],
                "properties": {
                  "url": {
                    "type": "string",
                    "format": "uri",
                    "maxLength": 2048,
                    "description": "http(s) only"
                  },
                  "max_pages": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 500,
                    "default": 20
                  }
                }
              },
              "example": {
                "url": "https://example.com",
                "max_pages": 20
              }
            }
          }
        },
        "responses": {
          "201": {
            "description": "The new audit, `pending`.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Audit"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/E400"
          },
          "401": {
            "$ref": "#/components/responses/E401"
          },
          "413": {
            "$ref": "#/components/responses/E413"
          },
          "429": {
            "$ref": "#/components/responses/E429"
          },
          "503": {
            "$ref": "#/components/responses/E503"
          }
        }
      }
    },
    "/api/v1/audits/{id}": {
      "get": {
        "operationId": "get_audit",
        "summary": "One audit, with its `report` once completed",
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "The job's id (one id space for audits and jobs).",
            "schema": {
              "type": "integer",
              "minimum": 1
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The audit.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Audit"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/E401"
          },
          "403": {
            "$ref": "#/components/responses/E403"
          },
          "404": {
            "$ref": "#/components/responses/E404"
          },
          "429": {
            "$ref": "#/components/responses/E429"
          },
          "503": {
            "$ref": "#/components/responses/E503"
          }
        }
      }
    },
    "/api/v1/audits/{id}/status": {
      "get": {
        "operationId": "get_audit_status",
        "summary": "The progress payload: the client-polling fallback",
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "The job's id (one id space for audits and jobs).",
            "schema": {
              "type": "integer",
              "minimum": 1
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The current state, as the stream would send it (`Cache-Control: no-store`).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Progress"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/E401"
          },
          "403": {
            "$ref": "#/components/responses/E403"
          },
          "404": {
            "$ref": "#/components/responses/E404"
          },
          "429": {
            "$ref": "#/components/responses/E429"
          },
          "503": {
            "$ref": "#/components/responses/E503"
          }
        }
      }
    },
    "/api/v1/audits/{id}/cancel": {
      "post": {
        "operationId": "cancel_audit",
        "summary": "Stop a pending or running audit",
        "description": "The owner or an `admin`. It ends `failed` with `error_message: \"cancelled\"`.",
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "The job's id (one id space for audits and jobs).",
            "schema": {
              "type": "integer",
              "minimum": 1
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The audit, now failed.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Audit"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/E401"
          },
          "403": {
            "$ref": "#/components/responses/E403"
          },
          "404": {
            "$ref": "#/components/responses/E404"
          },
          "409": {
            "$ref": "#/components/responses/E409"
          },
          "429": {
            "$ref": "#/components/responses/E429"
          },
          "503": {
            "$ref": "#/components/responses/E503"
          }
        }
      }
    },
    "/api/v1/audits/{id}/progress": {
      "post": {
        "operationId": "post_audit_progress",
        "summary": "Report progress (workers)",
        "description": "`worker`/`admin` only. Persisted first, then published; 202 once durable (it does not wait for delivery). 409 for `progress` below the current value (it never decreases), once the job is terminal, and for an audit Herald itself is running.",
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "The job's id (one id space for audits and jobs).",
            "schema": {
              "type": "integer",
              "minimum": 1
            }
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/Update"
              },
              "example": {
                "status": "running",
                "progress": 40,
                "step": "translate",
                "message": "Page 4/10"
              }
            }
          }
        },
        "responses": {
          "202": {
            "description": "Accepted and durable.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Accepted"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/E400"
          },
          "401": {
            "$ref": "#/components/responses/E401"
          },
          "403": {
            "$ref": "#/components/responses/E403"
          },
          "404": {
            "$ref": "#/components/responses/E404"
          },
          "409": {
            "$ref": "#/components/responses/E409"
          },
          "413": {
            "$ref": "#/components/responses/E413"
          },
          "429": {
            "$ref": "#/components/responses/E429"
          },
          "503": {
            "$ref": "#/components/responses/E503"
          }
        }
      }
    },
    "/api/v1/sse/audits/{id}/progress": {
      "get": {
        "operationId": "stream_audit",
        "summary": "The audit's progress stream (Server-Sent Events)",
        "description": "Events: `id: <seq>`, `event: message`, `data: <progress payload>`. A reconnect whose `Last-Event-ID` is already the terminal event gets 204, which tells EventSource to stop.",
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "The job's id (one id space for audits and jobs).",
            "schema": {
              "type": "integer",
              "minimum": 1
            }
          },
          {
            "name": "Last-Event-ID",
            "in": "header",
            "required": false,
            "description": "Resume: every retained event after this sequence number, in order. Unparseable: treated as absent.",
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "last_event_id",
            "in": "query",
            "required": false,
            "description": "The same as the header, for clients that cannot set it.",
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "ticket",
            "in": "query",
            "required": false,
            "description": "A single-use stream ticket from POST /api/v1/sse/tickets, instead of a token.",
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "token",
            "in": "query",
            "required": false,
            "description": "A JWT, for EventSource without cookies or tickets (prefer a ticket: URLs get logged).",
            "schema": {
              "type": "string"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The event stream. At once a `retry:` line and the current state as an event (or, on resume, every retained event after `Last-Event-ID`); then one event per change; a `: heartbeat` comment when idle; the response ends after the terminal event, `SSE_MAX_DURATION`, or the token's expiry (`event: error`).",
            "headers": {
              "Cache-Control": {
                "schema": {
                  "type": "string",
                  "const": "no-cache, no-transform"
                }
              },
              "X-Accel-Buffering": {
                "schema": {
                  "type": "string",
                  "const": "no"
                }
              }
            },
            "content": {
              "text/event-stream": {
                "schema": {
                  "type": "string"
                },
                "example": "retry: 5000\nid: 3\nevent: message\ndata: {\"audit_id\":123,\"status\":\"running\",\"progress\":50,\"seq\":3,\"updated_at\":\"2026-11-22T15:04:05Z\"}\n\n"
              }
            }
          },
          "204": {
            "description": "The job already ended at the `Last-Event-ID` given: nothing more will come."
          },
          "401": {
            "$ref": "#/components/responses/E401"
          },
          "403": {
            "$ref": "#/components/responses/E403"
          },
          "404": {
            "$ref": "#/components/responses/E404"
          },
          "429": {
            "$ref": "#/components/responses/E429"
          },
          "503": {
            "$ref": "#/components/responses/E503"
          }
        }
      }
    },
    "/api/v1/audits/{id}/report": {
      "get": {
        "operationId": "download_report",
        "summary": "The completed audit's report as a download",
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "The job's id (one id space for audits and jobs).",
            "schema": {
              "type": "integer",
              "minimum": 1
            }
          },
          {
            "name": "format",
            "in": "query",
            "schema": {
              "type": "string",
              "enum": [
                "json",
                "markdown",
                "md"
              ],
              "default": "json"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "`Content-Disposition: attachment; filename=\"herald-audit-{id}.json\"` (or `.md`). JSON: the audit with its report; Markdown: findings grouped by check, each with its pages.",
            "headers": {
              "Content-Disposition": {
                "schema": {
                  "type": "string"
                }
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Audit"
                }
              },
              "text/markdown": {
                "schema": {
                  "type": "string"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/E400"
          },
          "401": {
            "$ref": "#/components/responses/E401"
          },
          "403": {
            "$ref": "#/components/responses/E403"
          },
          "404": {
            "$ref": "#/components/responses/E404"
          },
          "409": {
            "$ref": "#/components/responses/E409"
          },
          "429": {
            "$ref": "#/components/responses/E429"
          },
          "503": {
            "$ref": "#/components/responses/E503"
          }
        }
      }
    },
    "/api/v1/jobs": {
      "get": {
        "operationId": "list_jobs",
        "summary": "The caller's jobs, newest first (audits included: one id space)",
        "description": "A `user` sees its own; `admin` and `worker` see all and may filter by `owner`.",
        "parameters": [
          {
            "name": "limit",
            "in": "query",
            "schema": {
              "type": "integer",
              "minimum": 1,
              "maximum": 500,
              "default": 50
            }
          },
          {
            "name": "offset",
            "in": "query",
            "schema": {
              "type": "integer",
              "minimum": 0,
              "default": 0
            }
          },
          {
            "name": "q",
            "in": "query",
            "description": "Case-insensitive substring of the url, title or type, or the id.",
            "schema": {
              "type": "string",
              "maxLength": 200
            }
          },
          {
            "name": "status",
            "in": "query",
            "schema": {
              "$ref": "#/components/schemas/Status"
            }
          },
          {
            "name": "owner",
            "in": "query",
            "description": "`admin`/`worker` only: one owner's jobs.",
            "schema": {
              "type": "string"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "One page.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "required": [
                    "items",
                    "limit",
                    "offset",
                    "has_more"
                  ],
                  "properties": {
                    "items": {
                      "type": "array",
                      "items": {
                        "$ref": "#/components/schemas/Job"
                      }
                    },
                    "limit": {
                      "type": "integer"
                    },
                    "offset": {
                      "type": "integer"
                    },
                    "has_more": {
                      "type": "boolean",
                      "description": "Whether a next page exists."
                    }
                  }
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/E400"
          },
          "401": {
            "$ref": "#/components/responses/E401"
          },
          "429": {
            "$ref": "#/components/responses/E429"
          },
          "503": {
            "$ref": "#/components/responses/E503"
          }
        }
      },
      "post": {
        "operationId": "create_job",
        "summary": "Create a generic job, run by the caller's own workers",
        "description": "Event 1 (`pending`) is recorded at once; workers then POST progress.",
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "type": "object",
                "required": [
                  "type"
                ],
                "properties": {
                  "type": {
                    "type": "string",
                    "pattern": "^[a-z0-9_.-]{1,64}$",
                    "not": {
                      "const": "audit"
                    }
                  },
                  "title": {
                    "type": "string",
                    "maxLength": 1000
                  },
                  "owner": {
                    "type": "string",
                    "description": "`admin`/`worker` only: create it for this user."
                  }
                }
              },
              "example": {
                "type": "translation",
                "title": "Catalogue into Spanish"
              }
            }
          }
        },
        "responses": {
          "201": {
            "description": "The new job, `pending`.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Job"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/E400"
          },
          "401": {
            "$ref": "#/components/responses/E401"
          },
          "403": {
            "$ref": "#/components/responses/E403"
          },
          "413": {
            "$ref": "#/components/responses/E413"
          },
          "429": {
            "$ref": "#/components/responses/E429"
          },
          "503": {
            "$ref": "#/components/responses/E503"
          }
        }
      }
    },
    "/api/v1/jobs/{id}": {
      "get": {
        "operationId": "get_job",
        "summary": "One job (any type, audits included)",
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "The job's id (one id space for audits and jobs).",
            "schema": {
              "type": "integer",
              "minimum": 1
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The job.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Job"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/E401"
          },
          "403": {
            "$ref": "#/components/responses/E403"
          },
          "404": {
            "$ref": "#/components/responses/E404"
          },
          "429": {
            "$ref": "#/components/responses/E429"
          },
          "503": {
            "$ref": "#/components/responses/E503"
          }
        }
      }
    },
    "/api/v1/jobs/{id}/status": {
      "get": {
        "operationId": "get_job_status",
        "summary": "The progress payload: the client-polling fallback",
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "The job's id (one id space for audits and jobs).",
            "schema": {
              "type": "integer",
              "minimum": 1
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The current state, as the stream would send it (`Cache-Control: no-store`).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Progress"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/E401"
          },
          "403": {
            "$ref": "#/components/responses/E403"
          },
          "404": {
            "$ref": "#/components/responses/E404"
          },
          "429": {
            "$ref": "#/components/responses/E429"
          },
          "503": {
            "$ref": "#/components/responses/E503"
          }
        }
      }
    },
    "/api/v1/jobs/{id}/cancel": {
      "post": {
        "operationId": "cancel_job",
        "summary": "Stop a pending or running job",
        "description": "The owner or an `admin`. It ends `failed` with `error_message: \"cancelled\"`.",
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "The job's id (one id space for audits and jobs).",
            "schema": {
              "type": "integer",
              "minimum": 1
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The job, now failed.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Job"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/E401"
          },
          "403": {
            "$ref": "#/components/responses/E403"
          },
          "404": {
            "$ref": "#/components/responses/E404"
          },
          "409": {
            "$ref": "#/components/responses/E409"
          },
          "429": {
            "$ref": "#/components/responses/E429"
          },
          "503": {
            "$ref": "#/components/responses/E503"
          }
        }
      }
    },
    "/api/v1/jobs/{id}/progress": {
      "post": {
        "operationId": "post_job_progress",
        "summary": "Report progress (workers)",
        "description": "`worker`/`admin` only. Persisted first, then published; 202 once durable (it does not wait for delivery). 409 for `progress` below the current value (it never decreases), once the job is terminal, and for an audit Herald itself is running.",
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "The job's id (one id space for audits and jobs).",
            "schema": {
              "type": "integer",
              "minimum": 1
            }
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/Update"
              },
              "example": {
                "status": "running",
                "progress": 40,
                "step": "translate",
                "message": "Page 4/10"
              }
            }
          }
        },
        "responses": {
          "202": {
            "description": "Accepted and durable.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Accepted"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/E400"
          },
          "401": {
            "$ref": "#/components/responses/E401"
          },
          "403": {
            "$ref": "#/components/responses/E403"
          },
          "404": {
            "$ref": "#/components/responses/E404"
          },
          "409": {
            "$ref": "#/components/responses/E409"
          },
          "413": {
            "$ref": "#/components/responses/E413"
          },
          "429": {
            "$ref": "#/components/responses/E429"
          },
          "503": {
            "$ref": "#/components/responses/E503"
          }
        }
      }
    },
    "/api/v1/sse/jobs/{id}/progress": {
      "get": {
        "operationId": "stream_job",
        "summary": "The job's progress stream (Server-Sent Events)",
        "description": "Events: `id: <seq>`, `event: message`, `data: <progress payload>`. A reconnect whose `Last-Event-ID` is already the terminal event gets 204, which tells EventSource to stop.",
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "The job's id (one id space for audits and jobs).",
            "schema": {
              "type": "integer",
              "minimum": 1
            }
          },
          {
            "name": "Last-Event-ID",
            "in": "header",
            "required": false,
            "description": "Resume: every retained event after this sequence number, in order. Unparseable: treated as absent.",
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "last_event_id",
            "in": "query",
            "required": false,
            "description": "The same as the header, for clients that cannot set it.",
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "ticket",
            "in": "query",
            "required": false,
            "description": "A single-use stream ticket from POST /api/v1/sse/tickets, instead of a token.",
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "token",
            "in": "query",
            "required": false,
            "description": "A JWT, for EventSource without cookies or tickets (prefer a ticket: URLs get logged).",
            "schema": {
              "type": "string"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The event stream. At once a `retry:` line and the current state as an event (or, on resume, every retained event after `Last-Event-ID`); then one event per change; a `: heartbeat` comment when idle; the response ends after the terminal event, `SSE_MAX_DURATION`, or the token's expiry (`event: error`).",
            "headers": {
              "Cache-Control": {
                "schema": {
                  "type": "string",
                  "const": "no-cache, no-transform"
                }
              },
              "X-Accel-Buffering": {
                "schema": {
                  "type": "string",
                  "const": "no"
                }
              }
            },
            "content": {
              "text/event-stream": {
                "schema": {
                  "type": "string"
                },
                "example": "retry: 5000\nid: 3\nevent: message\ndata: {\"audit_id\":123,\"status\":\"running\",\"progress\":50,\"seq\":3,\"updated_at\":\"2026-11-22T15:04:05Z\"}\n\n"
              }
            }
          },
          "204": {
            "description": "The job already ended at the `Last-Event-ID` given: nothing more will come."
          },
          "401": {
            "$ref": "#/components/responses/E401"
          },
          "403": {
            "$ref": "#/components/responses/E403"
          },
          "404": {
            "$ref": "#/components/responses/E404"
          },
          "429": {
            "$ref": "#/components/responses/E429"
          },
          "503": {
            "$ref": "#/components/responses/E503"
          }
        }
      }
    },
    "/api/v1/progress": {
      "post": {
        "operationId": "post_progress_batch",
        "summary": "Many progress updates in one request (workers)",
        "description": "Each item as for one job, naming `job_id` or `audit_id`; one result per item, in order; items for one job keep their order. At most 1000 items.",
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "type": "array",
                "maxItems": 1000,
                "items": {
                  "allOf": [
                    {
                      "$ref": "#/components/schemas/Update"
                    },
                    {
                      "type": "object",
                      "properties": {
                        "job_id": {
                          "type": "integer"
                        },
                        "audit_id": {
                          "type": "integer"
                        }
                      }
                    }
                  ]
                }
              },
              "example": [
                {
                  "job_id": 1,
                  "progress": 20
                },
                {
                  "audit_id": 2,
                  "status": "completed"
                }
              ]
            }
          }
        },
        "responses": {
          "202": {
            "description": "One result per item.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "array",
                  "items": {
                    "oneOf": [
                      {
                        "$ref": "#/components/schemas/Accepted"
                      },
                      {
                        "type": "object",
                        "required": [
                          "error",
                          "status"
                        ],
                        "properties": {
                          "error": {
                            "type": "string"
                          },
                          "status": {
                            "type": "integer",
                            "description": "The HTTP status this item alone would have had."
                          }
                        }
                      }
                    ]
                  }
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/E400"
          },
          "401": {
            "$ref": "#/components/responses/E401"
          },
          "403": {
            "$ref": "#/components/responses/E403"
          },
          "413": {
            "$ref": "#/components/responses/E413"
          },
          "429": {
            "$ref": "#/components/responses/E429"
          },
          "503": {
            "$ref": "#/components/responses/E503"
          }
        }
      }
    },
    "/api/v1/notifications": {
      "post": {
        "operationId": "post_notification",
        "summary": "A notice for one user, or everyone (workers)",
        "description": "`worker`/`admin` only. Kept in the user's history and sent on their notification streams.",
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "type": "object",
                "required": [
                  "user",
                  "type"
                ],
                "properties": {
                  "user": {
                    "type": "string",
                    "minLength": 1,
                    "description": "A user id, or `*` for everyone."
                  },
                  "type": {
                    "type": "string",
                    "pattern": "^[a-z0-9_.-]{1,64}$"
                  },
                  "data": {
                    "description": "Any JSON."
                  }
                }
              },
              "example": {
                "user": "alice",
                "type": "i18n_debug",
                "data": {
                  "missing_keys": 3
                }
              }
            }
          }
        },
        "responses": {
          "202": {
            "description": "Accepted; `id` is the notice's place in the feed.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "required": [
                    "id"
                  ],
                  "properties": {
                    "id": {
                      "type": "integer"
                    }
                  }
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/E400"
          },
          "401": {
            "$ref": "#/components/responses/E401"
          },
          "403": {
            "$ref": "#/components/responses/E403"
          },
          "413": {
            "$ref": "#/components/responses/E413"
          },
          "429": {
            "$ref": "#/components/responses/E429"
          },
          "503": {
            "$ref": "#/components/responses/E503"
          }
        }
      }
    },
    "/api/v1/sse/tickets": {
      "post": {
        "operationId": "create_ticket",
        "summary": "A single-use stream ticket, so no long-lived token sits in a URL",
        "description": "Name exactly one stream. `?ticket=` then opens that stream once, within `expires_in` seconds, on any instance, as the caller.",
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "type": "object",
                "properties": {
                  "job_id": {
                    "type": "integer",
                    "minimum": 1
                  },
                  "audit_id": {
                    "type": "integer",
                    "minimum": 1
                  },
                  "stream": {
                    "type": "string",
                    "const": "notify"
                  }
                },
                "minProperties": 1,
                "maxProperties": 1
              },
              "example": {
                "job_id": 12
              }
            }
          }
        },
        "responses": {
          "201": {
            "description": "The ticket.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "required": [
                    "ticket",
                    "expires_in"
                  ],
                  "properties": {
                    "ticket": {
                      "type": "string"
                    },
                    "expires_in": {
                      "type": "integer",
                      "const": 60
                    }
                  }
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/E400"
          },
          "401": {
            "$ref": "#/components/responses/E401"
          },
          "403": {
            "$ref": "#/components/responses/E403"
          },
          "404": {
            "$ref": "#/components/responses/E404"
          },
          "429": {
            "$ref": "#/components/responses/E429"
          },
          "503": {
            "$ref": "#/components/responses/E503"
          }
        }
      }
    },
    "/api/v1/session": {
      "post": {
        "operationId": "create_session",
        "summary": "Exchange a token (Authorization header only) for an HttpOnly `auth_token` cookie",
        "description": "The dashboard's sign-in: `Set-Cookie: auth_token=…; HttpOnly; SameSite=Strict; Path=/; Max-Age=<until the token expires>` (`Secure` behind `X-Forwarded-Proto: https`).",
        "security": [
          {
            "bearer": []
          }
        ],
        "responses": {
          "200": {
            "description": "Who the cookie stands for.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "required": [
                    "sub",
                    "role"
                  ],
                  "properties": {
                    "sub": {
                      "type": "string"
                    },
                    "role": {
                      "$ref": "#/components/schemas/Role"
                    },
                    "expires_at": {
                      "type": "string",
                      "format": "date-time"
                    }
                  }
                }
              }
            },
            "headers": {
              "Set-Cookie": {
                "schema": {
                  "type": "string"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/E400"
          },
          "401": {
            "$ref": "#/components/responses/E401"
          },
          "403": {
            "$ref": "#/components/responses/E403"
          },
          "429": {
            "$ref": "#/components/responses/E429"
          }
        }
      },
      "get": {
        "operationId": "get_session",
        "summary": "Who the credentials stand for",
        "responses": {
          "200": {
            "description": "The caller.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "required": [
                    "sub",
                    "role"
                  ],
                  "properties": {
                    "sub": {
                      "type": "string"
                    },
                    "role": {
                      "$ref": "#/components/schemas/Role"
                    },
                    "expires_at": {
                      "type": "string",
                      "format": "date-time"
                    }
                  }
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/E401"
          },
          "429": {
            "$ref": "#/components/responses/E429"
          }
        }
      },
      "delete": {
        "operationId": "end_session",
        "summary": "Sign out: clears the cookie (no valid credentials needed)",
        "security": [
          {}
        ],
        "responses": {
          "204": {
            "description": "Cleared.",
            "headers": {
              "Set-Cookie": {
                "schema": {
                  "type": "string"
                }
              }
            }
          }
        }
      }
    },
    "/notify/events": {
      "get": {
        "operationId": "stream_notifications",
        "summary": "The caller's notification stream (Server-Sent Events)",
        "description": "First bytes `:ok` and a blank line, then `retry:`; then a plain `data:` event for every change to any job the caller owns (`admin`: all), carrying the progress payload plus `\"event\": \"audit\"` or `\"job\"`, and for every notice `{\"event\": \"notice\", \"type\", \"data\", \"created_at\"}`. With `?events=named` each carries `event: audit`, `event: job` or `event: <notice type>` instead. `:keepalive` when idle. Events carry ids: a reconnect with `Last-Event-ID` gets what it missed.",
        "parameters": [
          {
            "name": "events",
            "in": "query",
            "schema": {
              "type": "string",
              "enum": [
                "named"
              ]
            }
          },
          {
            "name": "Last-Event-ID",
            "in": "header",
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "last_event_id",
            "in": "query",
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "ticket",
            "in": "query",
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "token",
            "in": "query",
            "schema": {
              "type": "string"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The event stream.",
            "content": {
              "text/event-stream": {
                "schema": {
                  "type": "string"
                },
                "example": ":ok\n\nretry: 5000\n\nid: 41\ndata: {\"event\":\"job\",\"job_id\":7,\"type\":\"translation\",\"status\":\"running\",\"progress\":40}\n\n"
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/E401"
          },
          "429": {
            "$ref": "#/components/responses/E429"
          },
          "503": {
            "$ref": "#/components/responses/E503"
          }
        }
      }
    },
    "/api/v1/openapi.json": {
      "get": {
        "operationId": "openapi",
        "summary": "This document",
        "security": [
          {}
        ],
        "responses": {
          "200": {
            "description": "OpenAPI 3.1.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "required": [
                    "openapi",
                    "paths"
                  ]
                }
              }
            }
          }
        }
      }
    },
    "/healthz": {
      "get": {
        "operationId": "healthz",
        "summary": "Health of this instance and its dependencies",
        "security": [
          {}
        ],
        "responses": {
          "200": {
            "description": "Serving.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Health"
                }
              }
            }
          },
          "503": {
            "description": "The database is down, full, read-only or hung.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Health"
                }
              }
            }
          }
        }
      }
    },
    "/metrics": {
      "get": {
        "operationId": "metrics",
        "summary": "Prometheus text: open streams, connections, events published and delivered, fallback state, request counts and latencies",
        "security": [
          {}
        ],
        "responses": {
          "200": {
            "description": "Prometheus exposition format 0.0.4.",
            "content": {
              "text/plain": {
                "schema": {
                  "type": "string"
                }
              }
            }
          }
        }
      }
    },
    "/": {
      "get": {
        "operationId": "dashboard",
        "summary": "The dashboard (HTML), with a Content-Security-Policy that allows only its own hashed inline script and style",
        "security": [
          {}
        ],
        "responses": {
          "200": {
            "description": "The page.",
            "content": {
              "text/html": {
                "schema": {
                  "type": "string"
                }
              }
            }
          }
        }
      }
    }
  },
  "components": {
    "schemas": {
      "Error": {
        "type": "object",
        "required": [
          "error"
        ],
        "properties": {
          "error": {
            "type": "string"
          }
        }
      },
      "Status": {
        "type": "string",
        "enum": [
          "pending",
          "running",
          "completed",
          "failed"
        ]
      },
      "Role": {
        "type": "string",
        "enum": [
          "user",
          "worker",
          "admin"
        ]
      },
      "Progress": {
        "type": "object",
        "description": "The progress payload: what streams send and /status returns. Optional fields appear once known; a terminal update carries only its own message and step.",
        "required": [
          "status",
          "progress",
          "seq",
          "updated_at"
        ],
        "properties": {
          "audit_id": {
            "type": "integer",
            "description": "Audits"
          },
          "job_id": {
            "type": "integer",
            "description": "Generic jobs"
          },
          "type": {
            "type": "string",
            "description": "Generic jobs: the type given at creation"
          },
          "status": {
            "$ref": "#/components/schemas/Status"
          },
          "progress": {
            "type": "integer",
            "minimum": 0,
            "maximum": 100,
            "description": "Never decreases within a job"
          },
          "url": {
            "type": "string",
            "description": "Audits"
          },
          "title": {
            "type": "string"
          },
          "message": {
            "type": "string"
          },
          "step": {
            "type": "string"
          },
          "total_pages": {
            "type": "integer"
          },
          "geo_score": {
            "type": "number",
            "description": "Written as people write numbers (78.5), never in exponent notation"
          },
          "critical_issues": {
            "type": "integer"
          },
          "high_issues": {
            "type": "integer"
          },
          "medium_issues": {
            "type": "integer"
          },
          "low_issues": {
            "type": "integer"
          },
          "error_message": {
            "type": "string",
            "description": "On failure"
          },
          "error": {
            "type": "string",
            "description": "On failure: the same as error_message"
          },
          "data": {
            "description": "Generic jobs: the worker's result, any JSON"
          },
          "seq": {
            "type": "integer",
            "description": "The event sequence number this state is (the SSE id)"
          },
          "updated_at": {
            "type": "string",
            "format": "date-time"
          }
        }
      },
      "Job": {
        "allOf": [
          {
            "$ref": "#/components/schemas/Progress"
          },
          {
            "type": "object",
            "required": [
              "id",
              "type",
              "owner",
              "created_at"
            ],
            "properties": {
              "id": {
                "type": "integer"
              },
              "owner": {
                "type": "string"
              },
              "created_at": {
                "type": "string",
                "format": "date-time"
              },
              "max_pages": {
                "type": "integer",
                "description": "Audits"
              },
              "report": {
                "$ref": "#/components/schemas/Report"
              }
            }
          }
        ]
      },
      "Audit": {
        "allOf": [
          {
            "$ref": "#/components/schemas/Job"
          },
          {
            "type": "object",
            "required": [
              "audit_id",
              "url",
              "max_pages"
            ],
            "properties": {
              "type": {
                "const": "audit"
              }
            }
          }
        ]
      },
      "Report": {
        "type": "object",
        "description": "A completed audit's findings.",
        "required": [
          "geo_score",
          "issue_counts",
          "findings",
          "pages",
          "site"
        ],
        "properties": {
          "geo_score": {
            "type": "number"
          },
          "total_pages": {
            "type": "integer"
          },
          "score_breakdown": {
            "type": "array",
            "items": {
              "type": "object",
              "required": [
                "name",
                "weight",
                "score"
              ],
              "properties": {
                "name": {
                  "type": "string"
                },
                "weight": {
                  "type": "number"
                },
                "score": {
                  "type": "number"
                }
              }
            }
          },
          "issue_counts": {
            "type": "object",
            "properties": {
              "critical": {
                "type": "integer"
              },
              "high": {
                "type": "integer"
              },
              "medium": {
                "type": "integer"
              },
              "low": {
                "type": "integer"
              }
            }
          },
          "findings": {
            "type": "object",
            "description": "By severity",
            "properties": {
              "critical": {
                "type": "array",
                "items": {
                  "$ref": "#/components/schemas/Finding"
                }
              },
              "high": {
                "type": "array",
                "items": {
                  "$ref": "#/components/schemas/Finding"
                }
              },
              "medium": {
                "type": "array",
                "items": {
                  "$ref": "#/components/schemas/Finding"
                }
              },
              "low": {
                "type": "array",
                "items": {
                  "$ref": "#/components/schemas/Finding"
                }
              }
            }
          },
          "pages": {
            "type": "array",
            "items": {
              "type": "object",
              "required": [
                "url",
                "status"
              ],
              "properties": {
                "url": {
                  "type": "string"
                },
                "status": {
                  "type": "integer"
                },
                "title": {
                  "type": "string"
                },
                "word_count": {
                  "type": "integer"
                },
                "response_ms": {
                  "type": "number"
                },
                "bytes": {
                  "type": "integer"
                },
                "h1_count": {
                  "type": "integer"
                },
                "jsonld_types": {
                  "type": "array",
                  "items": {
                    "type": "string"
                  }
                },
                "issues": {
                  "type": "integer"
                },
                "error": {
                  "type": "string"
                }
              }
            }
          },
          "site": {
            "type": "object",
            "properties": {
              "robots_txt": {
                "type": "integer"
              },
              "llms_txt": {
                "type": "integer"
              },
              "sitemap": {
                "type": "integer"
              },
              "ai_crawlers": {
                "type": "object",
                "additionalProperties": {
                  "type": "string",
                  "enum": [
                    "allowed",
                    "blocked",
                    "unknown"
                  ]
                }
              },
              "skipped_by_robots": {
                "type": "array",
                "items": {
                  "type": "string"
                }
              }
            }
          }
        }
      },
      "Finding": {
        "type": "object",
        "required": [
          "check_id",
          "page",
          "message",
          "fix"
        ],
        "properties": {
          "check_id": {
            "type": "string"
          },
          "page": {
            "type": "string",
            "description": "The page's URL; empty for a site-wide finding"
          },
          "message": {
            "type": "string"
          },
          "fix": {
            "type": "string"
          }
        }
      },
      "Update": {
        "type": "object",
        "description": "A partial payload: only what changed. Unknown fields are refused.",
        "properties": {
          "status": {
            "$ref": "#/components/schemas/Status"
          },
          "progress": {
            "type": "integer",
            "minimum": 0,
            "maximum": 100
          },
          "message": {
            "type": "string"
          },
          "step": {
            "type": "string"
          },
          "total_pages": {
            "type": "integer"
          },
          "geo_score": {
            "type": "number"
          },
          "critical_issues": {
            "type": "integer"
          },
          "high_issues": {
            "type": "integer"
          },
          "medium_issues": {
            "type": "integer"
          },
          "low_issues": {
            "type": "integer"
          },
          "data": {
            "description": "Any JSON: the job's result"
          },
          "error_message": {
            "type": "string"
          },
          "report": {
            "$ref": "#/components/schemas/Report"
          }
        }
      },
      "Accepted": {
        "type": "object",
        "required": [
          "id",
          "status",
          "progress"
        ],
        "properties": {
          "id": {
            "type": "integer",
            "description": "The new event's sequence number"
          },
          "status": {
            "$ref": "#/components/schemas/Status"
          },
          "progress": {
            "type": "integer"
          }
        }
      },
      "Health": {
        "type": "object",
        "required": [
          "status",
          "sse_source",
          "redis",
          "db"
        ],
        "properties": {
          "status": {
            "type": "string",
            "enum": [
              "ok",
              "degraded"
            ]
          },
          "sse_source": {
            "type": "string",
            "enum": [
              "redis",
              "memory",
              "db"
            ]
          },
          "redis": {
            "type": "string",
            "enum": [
              "up",
              "down",
              "n/a"
            ]
          },
          "db": {
            "type": "string",
            "enum": [
              "up",
              "down"
            ]
          }
        }
      }
    },
    "responses": {
      "E400": {
        "description": "Bad input: the body or a parameter, named in `error`.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "E401": {
        "description": "Missing, invalid or expired token (or a used, expired or foreign ticket).",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "E403": {
        "description": "Another user's job, a role that may not do this, or a cookie-authenticated POST from a foreign origin.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "E404": {
        "description": "No such job (or audit).",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "E409": {
        "description": "The job is terminal, the progress would decrease, or it is an audit Herald itself is running (or, for a report, not completed).",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "E413": {
        "description": "Body too large.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "E429": {
        "description": "Rate limited, or too many open streams for this user (`HERALD_MAX_STREAMS_PER_USER`).",
        "headers": {
          "Retry-After": {
            "schema": {
              "type": "integer"
            },
            "description": "seconds"
          }
        },
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "E503": {
        "description": "A dependency (the database) is down, full, read-only or hung; nothing was half-applied: retry.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      }
    },
    "securitySchemes": {
      "bearer": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "HS256 with JWT_SECRET (RS256/ES256 with JWT_PUBLIC_KEY_FILE). Claims: sub, exp, role (user, worker, admin). Streams also accept `?token=` or a `?ticket=`."
      },
      "cookie": {
        "type": "apiKey",
        "in": "cookie",
        "name": "auth_token",
        "description": "Set by POST /api/v1/session. A POST it authenticates must come from the same origin or CORS_ALLOWED_ORIGINS."
      }
    }
  }
}
)json";

}  // namespace herald::api
