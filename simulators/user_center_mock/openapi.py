"""The OpenAPI document of user-center-mock."""

from __future__ import annotations

from typing import Any

from step_platform.core.docs import document, error_response, json_response
from step_platform.core.versions import PACKAGE

from .tokens import DEFAULT_TTL, MAX_TTL

TOKEN = {
    "type": "object",
    "properties": {
        "access_token": {"type": "string"},
        "token_type": {"type": "string", "example": "Bearer"},
        "expires_in": {"type": "integer"},
    },
}


def openapi() -> dict[str, Any]:
    paths = {
        "/api/token": {
            "post": {
                "operationId": "issue_token",
                "summary": "A token for a user (sub = {user_id, profile_id, account_id, roles})",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["user_id"],
                                "properties": {
                                    "user_id": {"type": "string", "format": "uuid"},
                                    "roles": {"type": "array", "items": {"type": "string"}},
                                    "ttl": {
                                        "type": "integer",
                                        "minimum": 1,
                                        "maximum": MAX_TTL,
                                        "default": DEFAULT_TTL,
                                        "description": "seconds; absent: the default",
                                    },
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": json_response("The token", TOKEN),
                    "400": error_response("Invalid body"),
                },
            }
        },
        "/.well-known/jwks.json": {
            "get": {
                "summary": "The signing key as a JWK set",
                "responses": {"200": {"description": "JWKS"}},
            }
        },
        "/.well-known/openid-configuration": {
            "get": {"summary": "Discovery document", "responses": {"200": {"description": "OK"}}}
        },
        "/public-key.pem": {
            "get": {
                "summary": "The public key (PEM), for ACCESS_TOKEN_PUBLIC_KEY",
                "responses": {"200": {"description": "PEM text"}},
            }
        },
        "/__admin/mint": {
            "post": {
                "tags": ["admin"],
                "summary": "Any token: claims merged over the defaults (null removes one), "
                "headers, ttl (negative = expired), foreign_key, algorithm (RS256, none, HS256)",
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "claims": {"type": "object"},
                                    "headers": {"type": "object"},
                                    "ttl": {
                                        "type": "integer",
                                        "minimum": -MAX_TTL,
                                        "maximum": MAX_TTL,
                                    },
                                    "foreign_key": {"type": "boolean"},
                                    "algorithm": {
                                        "type": "string",
                                        "enum": ["RS256", "none", "HS256"],
                                    },
                                },
                            }
                        }
                    }
                },
                "responses": {
                    "200": json_response(
                        "The token",
                        {"type": "object", "properties": {"access_token": {"type": "string"}}},
                    ),
                    "400": error_response("Invalid body"),
                },
            }
        },
    }
    return document(
        "user-center-mock",
        PACKAGE,
        "Simulator of the User Center: RS256 access tokens, JWKS, PEM public key.",
        paths,
    )
