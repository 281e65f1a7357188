package io.k3j.apiserver.registry;

import io.k3j.apiserver.auth.UserInfo;
import java.util.Objects;

/**
 * Options of a create, update or patch.
 *
 * @param fieldManager    the manager recorded in managedFields (query param, or derived from the User-Agent)
 * @param fieldValidation what to do with unknown and duplicate fields in the request (query param
 *                        {@code fieldValidation}, default Warn)
 * @param apply           true for server-side apply, which records managedFields itself
 * @param warnings        where to add warnings for the client of this request (sent as {@code Warning} headers);
 *                        a fresh collector nobody reads when the write doesn't come from an HTTP request
 */
public record WriteOptions(boolean dryRun, String fieldManager, FieldValidation fieldValidation, UserInfo user, boolean apply,
                           Warnings warnings) {
    public enum FieldValidation { IGNORE, WARN, STRICT }

    public WriteOptions {
        Objects.requireNonNull(fieldValidation, "fieldValidation");
        Objects.requireNonNull(warnings, "warnings");
    }

    public WriteOptions(boolean dryRun, String fieldManager, FieldValidation fieldValidation, UserInfo user, boolean apply) {
        this(dryRun, fieldManager, fieldValidation, user, apply, new Warnings());
    }

    public WriteOptions(boolean dryRun, String fieldManager, FieldValidation fieldValidation, UserInfo user) {
        this(dryRun, fieldManager, fieldValidation, user, false);
    }

    public static WriteOptions system(String manager) {
        return new WriteOptions(false, manager, FieldValidation.IGNORE, null, false);
    }

    public WriteOptions forApply() {
        return new WriteOptions(dryRun, fieldManager, fieldValidation, user, true, warnings);
    }
}
