// Reads catalog-info YAML from stdin with the `yaml` package (YAML 1.2, strict, unique keys), then checks every
// document with Backstage's own catalog-model: the entity policies the catalog backend applies to every entity and the
// kind validators of API, Component and Group. Prints {errors, documents, backstageErrors} as JSON.
import { parseAllDocuments } from 'yaml';
import {
  EntityPolicies, DefaultNamespaceEntityPolicy, NoForeignRootFieldsEntityPolicy, FieldFormatEntityPolicy, SchemaValidEntityPolicy,
  apiEntityV1alpha1Validator, componentEntityV1alpha1Validator, groupEntityV1alpha1Validator,
} from '@backstage/catalog-model';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const parsed = parseAllDocuments(input, { strict: true, uniqueKeys: true, prettyErrors: false });
const list = Array.isArray(parsed) ? parsed : [parsed];
const errors = list.flatMap((d) => [...d.errors, ...d.warnings].map((e) => e.message));
const documents = list.map((d) => d.toJS());

const policy = EntityPolicies.allOf([
  new DefaultNamespaceEntityPolicy(), new NoForeignRootFieldsEntityPolicy(), new FieldFormatEntityPolicy(), new SchemaValidEntityPolicy(),
]);
const kindValidators = [apiEntityV1alpha1Validator, componentEntityV1alpha1Validator, groupEntityV1alpha1Validator];
const backstageErrors = [];
for (const document of documents) {
  const entity = structuredClone(document);
  const where = `${entity?.kind}:${entity?.metadata?.name}`;
  try {
    await policy.enforce(entity);
    let known = false;
    for (const validator of kindValidators) {
      // check() is false for another kind, and throws when the kind matches but the entity breaks its schema.
      if (await validator.check(entity)) known = true;
    }
    if (!known) backstageErrors.push(`${where}: no validator accepts this kind`);
  } catch (error) {
    backstageErrors.push(`${where}: ${error.message}`);
  }
}
process.stdout.write(JSON.stringify({ errors, documents, backstageErrors }));
