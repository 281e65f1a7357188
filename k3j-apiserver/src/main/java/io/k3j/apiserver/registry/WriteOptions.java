package io.k3j.apiserver.registry;

import io.k3j.apiserver.auth.UserInfo;

/**
 * Options of a create, update or patch.
 *
 * @param fieldManager the manager recorded in managedFields (query param, or derived from the User-Agent)
 */
public record WriteOptions(boolean dryRun, String fieldManager, FieldValidation fieldValidation, UserInfo user) {
    public enum FieldValidation { IGNORE, WARN, STRICT }

    public static WriteOptions system(String manager) {
        return new WriteOptions(false, manager, FieldValidation.IGNORE, null);
    }
}
