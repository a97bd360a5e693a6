import { Field, ObjectType } from 'type-graphql';

@ObjectType('ServerVersion')
export class ServerVersionType {
  @Field(() => String, { description: "The server's package version" }) server: string;
  @Field(() => String, { description: 'The schema version (semver): clients speak to servers of the same major and an equal or later minor' }) schema: string;
}
